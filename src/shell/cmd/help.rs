//! `help [COMMAND]`.

use crate::shell::grammar::tree;
use crate::shell::{Output, ShellError};

/// `help`, `help card`, `help card add`, or any command with `--help`.
#[derive(Debug)]
pub struct Help {
    pub topic: Vec<String>,
}

impl Help {
    pub fn apply(self) -> Result<Output, ShellError> {
        let mut cmd = tree();
        if self.topic.is_empty() {
            return Ok(Output::Help(overview(&cmd)));
        }
        let mut path = Vec::new();
        for word in &self.topic {
            cmd = cmd.find_subcommand(word).cloned().ok_or_else(|| {
                ShellError::Usage(format!(
                    "error: no help for `{}` (try `help`)",
                    self.topic.join(" ")
                ))
            })?;
            path.push(word.as_str());
        }
        let mut cmd = cmd.bin_name(path.join(" ")).disable_colored_help(true);
        Ok(Output::Help(
            cmd.render_help().to_string().trim_end().to_owned(),
        ))
    }
}

/// One line per command, subcommands spelled out.
fn overview(root: &clap::Command) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    for sub in root.get_subcommands() {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        if sub.has_subcommands() {
            for leaf in sub.get_subcommands() {
                let leaf_about = leaf.get_about().map(|a| a.to_string()).unwrap_or_default();
                rows.push((
                    format!("{} {}", sub.get_name(), leaf.get_name()),
                    leaf_about,
                ));
            }
        } else {
            rows.push((sub.get_name().to_owned(), about));
        }
    }
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut out = String::from("Commands:\n");
    for (name, about) in rows {
        out.push_str(&format!("  {name:width$}  {about}\n"));
    }
    out.push_str("\n`help COMMAND` or `COMMAND --help` shows a command's flags.");
    out
}
