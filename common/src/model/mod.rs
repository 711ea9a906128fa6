//! The domain model: ids, record kinds, typed field values and the schema that says
//! which field of which kind holds which type.

mod choices;
mod due;
mod ids;
mod progress;
mod recurrence;
mod schema;
mod space;
mod value;

pub use choices::{CommitmentStatus, GoalStatus, NoteKind, Rating};
pub use due::{due_by, due_date, is_open, is_overdue};
pub use ids::{RecordId, SpaceId, UserId};
pub use progress::{KEY_RESULTS, PROGRESS, PROGRESS_ENTERED, goal_progress, shown_keys};
pub use recurrence::{Recurrence, RecurrenceError};
pub use schema::{
    FieldSpec, FieldType, ModelError, RecordKind, fields_of, is_from_content, normalize_newlines,
    spec_of,
};
pub use space::{Role, Space, UserProfile};
pub use value::{KeyResult, PersonRef, Value};
