//! `docs/export.schema.json`, generated from the model so that it always says what
//! the export writes: the record fields per kind with their value types come from
//! [`fields_of`]. A test keeps the file in the repo equal to [`schema`]; after a
//! model change, `CAIRN_WRITE_SCHEMA=1 cargo test -p cairn-server export_schema`
//! rewrites it.

use crate::model::{
    CommitmentStatus, FieldType, GoalStatus, NoteKind, PROGRESS, PROGRESS_ENTERED, Rating,
    RecordKind, fields_of, shown_keys,
};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

/// The schema file's path relative to the workspace root.
pub const PATH: &str = "docs/export.schema.json";

/// The value variants: the key of a typed value (`{"Date": "2026-12-31"}`) and the
/// schema of what it holds.
fn variants() -> Vec<(&'static str, Json)> {
    let uuid = json!({ "$ref": "#/$defs/uuid" });
    let date = json!({ "type": "string", "format": "date" });
    let count = json!({ "type": "integer", "minimum": 1 });
    vec![
        ("Text", json!({ "type": "string" })),
        ("Date", date.clone()),
        ("Int", json!({ "type": "integer" })),
        ("Bool", json!({ "type": "boolean" })),
        ("GoalStatus", names(GoalStatus::ALL)),
        ("CommitmentStatus", names(CommitmentStatus::ALL)),
        ("NoteKind", names(NoteKind::ALL)),
        ("Rating", names(Rating::ALL)),
        ("Ref", uuid.clone()),
        ("Refs", json!({ "type": "array", "items": uuid })),
        (
            "List",
            json!({ "type": "array", "items": { "type": "string" } }),
        ),
        (
            "KeyResults",
            json!({ "type": "array", "items": object(&[
                ("name", json!({ "type": "string" })),
                ("current", json!({ "type": "number" })),
                ("target", json!({ "type": "number" })),
                ("unit", json!({ "type": "string" })),
            ], None) }),
        ),
        (
            "Recurrence",
            json!({ "oneOf": [
                tagged("Days", &count),
                tagged("Weeks", &count),
                tagged("Months", &count),
                tagged("Weekdays", &json!({ "type": "array",
                    "items": { "type": "integer", "minimum": 0, "maximum": 6 } })),
            ] }),
        ),
        ("Dates", json!({ "type": "array", "items": date })),
        (
            "People",
            json!({ "type": "array", "items": object(&[
                ("name", json!({ "type": "string" })),
                ("id", json!({ "anyOf": [{ "type": "null" }, uuid] })),
            ], None) }),
        ),
    ]
}

/// The value variants a field of this type may hold: one, except that person fields
/// written before people were records hold a name (`Text`) or names (`List`).
fn variants_of(ty: FieldType) -> &'static [&'static str] {
    match ty {
        FieldType::Text { .. } | FieldType::LongText => &["Text"],
        FieldType::Date => &["Date"],
        FieldType::Int { .. } | FieldType::Minutes => &["Int"],
        FieldType::Bool => &["Bool"],
        FieldType::GoalStatus => &["GoalStatus"],
        FieldType::CommitmentStatus => &["CommitmentStatus"],
        FieldType::NoteKind => &["NoteKind"],
        FieldType::Rating => &["Rating"],
        FieldType::Ref(_) => &["Ref"],
        FieldType::Refs(_) => &["Refs"],
        FieldType::List => &["List"],
        FieldType::KeyResults => &["KeyResults"],
        FieldType::Recurrence => &["Recurrence"],
        FieldType::Dates => &["Dates"],
        FieldType::Person { many: false } => &["People", "Text"],
        FieldType::Person { many: true } => &["People", "List"],
    }
}

fn names<T: Serialize>(all: &[T]) -> Json {
    json!({ "enum": all.iter().map(|v| serde_json::to_value(v).unwrap_or(Json::Null)).collect::<Vec<_>>() })
}

/// `{"<key>": <inner>}` and nothing else.
fn tagged(key: &str, inner: &Json) -> Json {
    object(&[(key, inner.clone())], None)
}

/// An object with exactly these properties, all required unless listed optional.
fn object(props: &[(&str, Json)], optional: Option<&[&str]>) -> Json {
    let optional = optional.unwrap_or_default();
    let properties: Map<String, Json> = props
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let required: Vec<&str> = props
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| !optional.contains(k))
        .collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn def(name: &str) -> Json {
    json!({ "$ref": format!("#/$defs/{name}") })
}

fn string() -> Json {
    json!({ "type": "string" })
}

fn time() -> Json {
    json!({ "type": "string", "format": "date-time" })
}

fn array_of(item: Json) -> Json {
    json!({ "type": "array", "items": item })
}

fn role() -> Json {
    json!({ "enum": ["owner", "editor", "viewer"] })
}

fn record(kind: RecordKind) -> Json {
    // A goal's `progress_entered` is the figure of its progress field, shown next to
    // the progress the one rule gives.
    let fields: Vec<(&str, Json)> = shown_keys(kind)
        .into_iter()
        .map(|key| {
            let field = if key == PROGRESS_ENTERED {
                PROGRESS
            } else {
                key
            };
            let variants = fields_of(kind)
                .iter()
                .find(|s| s.key == field)
                .map_or(&["Int"][..], |s| variants_of(s.ty));
            let mut any_of = vec![json!({ "type": "null" })];
            any_of.extend(variants.iter().map(|v| def(&format!("value_{v}"))));
            (key, json!({ "anyOf": any_of }))
        })
        .collect();
    let mut schema = object(
        &[
            ("id", def("uuid")),
            ("deleted", json!({ "type": "boolean" })),
            ("created_at", time()),
            (
                "created_by",
                json!({ "anyOf": [{ "type": "null" }, def("uuid")] }),
            ),
            ("updated_at", time()),
            ("fields", object(&fields, None)),
            (
                "conflicts",
                array_of(object(
                    &[
                        (
                            "field",
                            json!({ "enum": fields_of(kind).iter().map(|s| s.key).collect::<Vec<_>>() }),
                        ),
                        (
                            "versions",
                            array_of(object(
                                &[
                                    ("op", def("uuid")),
                                    ("author", def("uuid")),
                                    ("at", time()),
                                    ("value", def("value")),
                                ],
                                None,
                            )),
                        ),
                    ],
                    None,
                )),
            ),
        ],
        None,
    );
    schema["description"] = json!(format!(
        "A {} record: its state after every change in history.json.",
        kind.key()
    ));
    schema
}

/// The whole schema.
#[must_use]
pub fn schema() -> Json {
    let mut defs = Map::new();
    defs.insert(
        "uuid".into(),
        json!({ "type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" }),
    );
    let mut any_value = vec![json!({ "const": "Empty", "description": "the field was cleared" })];
    for (name, inner) in variants() {
        defs.insert(format!("value_{name}"), tagged(name, &inner));
        any_value.push(def(&format!("value_{name}")));
    }
    defs.insert(
        "value".into(),
        json!({ "description": "A typed field value: one key naming its type.", "oneOf": any_value }),
    );
    for kind in RecordKind::ALL {
        defs.insert(format!("record_{}", kind.key()), record(kind));
    }
    let scope = json!({ "oneOf": [
        object(&[("kind", json!({ "const": "server" }))], None),
        object(&[("kind", json!({ "const": "user" })), ("user", def("uuid"))], None),
        object(&[("kind", json!({ "const": "space" })), ("space", def("uuid"))], None),
        object(&[("kind", json!({ "const": "device" }))], None),
    ] });
    let mut manifest = object(
        &[
            ("format", json!({ "const": super::format::FORMAT })),
            (
                "format_version",
                json!({ "const": super::format::FORMAT_VERSION }),
            ),
            ("exported_at", time()),
            ("scope", scope),
            (
                "users",
                array_of(object(
                    &[("id", def("uuid")), ("email", string()), ("file", string())],
                    None,
                )),
            ),
            (
                "spaces",
                array_of(object(
                    &[
                        ("id", def("uuid")),
                        ("name", string()),
                        ("personal", json!({ "type": "boolean" })),
                        ("dir", string()),
                    ],
                    None,
                )),
            ),
            ("files", array_of(string())),
            (
                "contents",
                array_of(object(
                    &[
                        ("space", def("uuid")),
                        (
                            "sha256",
                            json!({ "type": "string", "pattern": "^[0-9a-f]{64}$" }),
                        ),
                        ("size", json!({ "type": "integer", "minimum": 0 })),
                        ("file", json!({ "type": ["string", "null"] })),
                        ("records", array_of(def("uuid"))),
                        ("names", array_of(string())),
                    ],
                    None,
                )),
            ),
        ],
        None,
    );
    manifest["description"] = json!("manifest.json: what the export is and holds.");
    defs.insert("manifest".into(), manifest);
    let mut user = object(
        &[
            ("id", def("uuid")),
            ("email", string()),
            ("first_name", string()),
            ("last_name", string()),
            ("disabled", json!({ "type": "boolean" })),
            ("must_change_password", json!({ "type": "boolean" })),
            ("server_admin", json!({ "type": "boolean" })),
            ("created_at", time()),
            ("created_at_ms", json!({ "type": "integer", "minimum": 0 })),
            ("personal_space", def("uuid")),
            (
                "memberships",
                array_of(object(
                    &[("space", def("uuid")), ("name", string()), ("role", role())],
                    None,
                )),
            ),
            (
                "sessions",
                array_of(object(
                    &[
                        ("device", string()),
                        ("created_at", time()),
                        ("expires_at", time()),
                    ],
                    None,
                )),
            ),
        ],
        Some(&["sessions"]),
    );
    user["description"] = json!("users/<id>/user.json: one account, without any credential.");
    defs.insert("user".into(), user);
    let records: Vec<(&str, Json)> = RecordKind::ALL
        .iter()
        .map(|k| (k.key(), array_of(def(&format!("record_{}", k.key())))))
        .collect();
    let mut space = object(
        &[
            ("id", def("uuid")),
            ("name", string()),
            ("personal", json!({ "type": "boolean" })),
            (
                "members",
                array_of(object(
                    &[
                        ("user", def("uuid")),
                        ("email", string()),
                        ("first_name", string()),
                        ("last_name", string()),
                        ("role", role()),
                    ],
                    None,
                )),
            ),
            ("records", object(&records, None)),
        ],
        None,
    );
    space["description"] =
        json!("spaces/<id>/space.json: a space, its members, its records per kind.");
    defs.insert("space".into(), space);
    let mut op = object(
        &[
            ("seq", json!({ "type": "integer", "minimum": 1 })),
            ("op", def("uuid")),
            ("record", def("uuid")),
            (
                "kind",
                json!({ "enum": RecordKind::ALL.iter().map(|k| k.key()).collect::<Vec<_>>() }),
            ),
            ("at", time()),
            (
                "clock",
                object(
                    &[
                        ("wall_ms", json!({ "type": "integer", "minimum": 0 })),
                        ("counter", json!({ "type": "integer", "minimum": 0 })),
                        ("node", json!({ "type": "integer", "minimum": 0 })),
                    ],
                    None,
                ),
            ),
            ("author", def("uuid")),
            ("author_email", json!({ "type": ["string", "null"] })),
            ("by_you", json!({ "type": "boolean" })),
            (
                "change",
                json!({ "enum": ["create", "set", "delete", "restore"] }),
            ),
            ("field", string()),
            ("new", def("value")),
            (
                "old",
                array_of(object(
                    &[
                        ("op", def("uuid")),
                        (
                            "value",
                            json!({ "anyOf": [{ "type": "null" }, def("value")] }),
                        ),
                    ],
                    None,
                )),
            ),
        ],
        Some(&["by_you", "field", "new", "old"]),
    );
    op["if"] = json!({ "properties": { "change": { "const": "set" } } });
    op["then"] = json!({ "required": ["field", "new", "old"] });
    op["else"] = json!({ "not": { "anyOf": [
        { "required": ["field"] }, { "required": ["new"] }, { "required": ["old"] },
    ] } });
    let mut history = object(&[("space", def("uuid")), ("ops", array_of(op))], None);
    history["description"] =
        json!("spaces/<id>/history.json: every change of the space, in log order.");
    defs.insert("history".into(), history);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:cairn:export.schema.json",
        "title": "Cairn export",
        "description": "The JSON files of an export directory (`cairn export`, `cairn-server export`): manifest.json ($defs/manifest), users/<id>/user.json ($defs/user), spaces/<id>/space.json ($defs/space) and spaces/<id>/history.json ($defs/history). README.txt in every export explains all files.",
        "oneOf": [def("manifest"), def("user"), def("space"), def("history")],
        "$defs": defs,
    })
}

/// The schema as the file holds it.
#[must_use]
pub fn text() -> String {
    serde_json::to_string_pretty(&schema()).unwrap_or_default() + "\n"
}
