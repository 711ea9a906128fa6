//! Undo and redo of record changes (`u`, `ctrl-r`). Every write that changed one
//! record leaves a [`ChangeStep`] (its state before and after); undo writes new ops
//! that make the record show its state before again, redo its state after. Nothing
//! is rewritten: the compensating ops sync like any change, so an undo reaches the
//! other devices too, and a change someone else made meanwhile to another field stays.

use super::action::{ChangeStep, WriteKind};

/// Most steps kept each way: a session's worth of work, small in memory.
const MAX_STEPS: usize = 100;

/// The changes that can be undone and redone, newest last.
#[derive(Clone, Debug, Default)]
pub struct UndoStacks {
    undo: Vec<ChangeStep>,
    redo: Vec<ChangeStep>,
}

impl UndoStacks {
    fn push(stack: &mut Vec<ChangeStep>, step: ChangeStep) {
        if stack.len() == MAX_STEPS {
            stack.remove(0);
        }
        stack.push(step);
    }

    /// Takes note of a finished write: a change goes on the undo stack and ends
    /// what could be redone; an undo's own step can be redone, a redo's undone.
    pub fn remember(&mut self, write: WriteKind, step: Option<ChangeStep>) {
        let Some(step) = step else {
            return;
        };
        match write {
            WriteKind::Undo => Self::push(&mut self.redo, step),
            WriteKind::Redo => Self::push(&mut self.undo, step),
            _ => {
                Self::push(&mut self.undo, step);
                self.redo.clear();
            }
        }
    }

    /// The newest change to undo, taken off its stack.
    pub fn pop_undo(&mut self) -> Option<ChangeStep> {
        self.undo.pop()
    }

    /// The newest undone change to redo, taken off its stack.
    pub fn pop_redo(&mut self) -> Option<ChangeStep> {
        self.redo.pop()
    }
}
