//! The ER diagram (docs/schema.dot, rendered to img.png) matches the schema the
//! migrations create: every table and column, and nothing that is not there.

use std::collections::BTreeSet;

use sqlx::Row;
use sqlx::sqlite::SqlitePoolOptions;

/// (table, column) pairs drawn in the diagram: rows of each table's HTML label.
fn diagram() -> BTreeSet<(String, String)> {
    let dot = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema.dot"))
        .expect("schema.dot");
    let mut out = BTreeSet::new();
    let mut table = None;
    for line in dot.lines().map(str::trim) {
        if let Some(name) = line.strip_suffix(" [label=<") {
            table = Some(name.to_owned());
        } else if line.starts_with("</table>") {
            table = None;
        } else if let (Some(t), Some(rest)) = (&table, line.strip_prefix("<tr><td")) {
            if line.contains("colspan") {
                continue;
            }
            let cell = rest.split_once('>').map(|(_, c)| c).unwrap_or("");
            let column = cell
                .split("</td>")
                .next()
                .unwrap_or("")
                .replace("<b>", "")
                .replace("</b>", "");
            out.insert((t.clone(), column));
        }
    }
    out
}

#[tokio::test]
async fn the_diagram_shows_exactly_the_migrated_tables_and_columns() {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("db");
    sqlx::migrate!("./migrations/sqlite")
        .run(&pool)
        .await
        .expect("migrate");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%'",
    )
    .fetch_all(&pool)
    .await
    .expect("tables");
    let mut schema = BTreeSet::new();
    for t in &tables {
        for row in sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA table_info({t})")))
            .fetch_all(&pool)
            .await
            .expect("columns")
        {
            schema.insert((t.clone(), row.get::<String, _>("name")));
        }
    }
    assert!(!schema.is_empty());
    assert_eq!(diagram(), schema);
}
