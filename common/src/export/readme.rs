//! The `README.txt` of every export: fixed text (no dates), so that two exports of
//! the same data stay byte-identical.

/// Its file name.
pub const FILE: &str = "README.txt";

/// What each file of the export is.
pub const TEXT: &str = "\
Cairn export
============

This directory holds data exported from Cairn: from a server (`cairn-server
export`, or `cairn export` by a user fetching what the server holds about them) or
from one device (`cairn export --local`). Every file is plain text (JSON, CSV or
Markdown, in UTF-8) except the content of files, which is kept as it was uploaded.
No Cairn is needed to read it; `cairn import` and `cairn-server import` read it back.

manifest.json
    What this export is: its format and version, when it was made (`exported_at`,
    the only value that differs between two exports of the same data), its scope
    (the whole server, one user, one space, or one device), the users and spaces in
    it with their directories, the list of all other text files, and the content of
    every file record: space, SHA-256, size, where it is in the export (null when
    the exporting device never downloaded it), and the records and names it has.

users/<user-id>/user.json
    One account: e-mail (the login name), names, whether it is disabled, must
    change its password or is a server admin, when it was created, its personal
    space and its memberships (space and role). Password hashes are never exported.
    In an export of one user it also lists that user's sessions (devices logged in).

spaces/<space-id>/space.json
    One space: name, whether it is someone's personal space, its members with their
    roles (a device's export knows only its own user), and its records per kind
    (goal, commitment, task = standard task, activity, note = conversation note,
    potential, person, file). Each record has its id, whether it is in the trash,
    when and by whom it was created, when it last changed, every field of its kind
    with its current value (a goal's progress is the mean of its key results when it
    has any, and progress_entered the figure entered by hand), and its conflicts:
    fields that two people changed at the same time, with every version, kept until
    someone chooses.
    Values are typed: {\"Text\": \"...\"}, {\"Date\": \"2026-12-31\"}, {\"Int\": 40},
    {\"GoalStatus\": \"OnTrack\"}, {\"Ref\": \"<record id>\"}, ...; null is unset.

spaces/<space-id>/history.json
    The change history of the space: every change ever accepted, in the order the
    server took it (seq 1, 2, ...; a device's export numbers its changes in the
    order of their clocks, those not yet sent included): which record, when (`at`,
    UTC), who (`author`, `author_email`, null when unknown), what (`create`, `set`
    of a field, `delete` to the trash, `restore`), and for a `set` the new value and
    the old values it replaced. The records in space.json are exactly what these changes add up to;
    `cairn-server import` rebuilds a server from these files, `cairn import` a
    device.

spaces/<space-id>/history.csv
    The same history as a table, values in text form.

spaces/<space-id>/<kind>.csv
    The records of one kind as a table (goal.csv, commitment.csv, task.csv,
    activity.csv, note.csv, potential.csv, person.csv, file.csv): a column per
    field (goals also with progress_entered, as in space.json), values in the text
    form the `cairn` command line reads, then deleted, created, updated, and every
    version of fields in conflict.

In the CSV files a value that starts with =, +, -, @, a tab or a carriage return
has a ' put in front of it, so that a spreadsheet shows it rather than running it
as a formula; take the ' away to get the value as it is (or read the JSON).

spaces/<space-id>/conversations/<record-id>.md
    Each conversation note as a Markdown document: its short fields in a header
    block, then its agenda and notes.

spaces/<space-id>/files/<sha256>
    The content of the space's files, named by its SHA-256 (`sha256sum` checks
    it); file.csv and manifest.json give each its name. The same content is kept
    once per space.

The structure of every JSON file is described by the JSON Schema
`docs/export.schema.json` (draft 2020-12) in Cairn's source.
";
