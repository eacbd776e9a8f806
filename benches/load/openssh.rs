//! The same login and idle-session figures for Debian's OpenSSH `sshd`, in
//! the same run as Keeper, both driven by the OpenSSH `ssh` client.
//!
//! Needs root (for a throwaway user with a password) and `sshd`; installs
//! `openssh-server` with apt when it is missing, and says so.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::server::Server;
use super::stats::{Row, quantile};

const SSHD: &str = "/usr/sbin/sshd";
const USER: &str = "keeperbench";
const USER_PASSWORD: &str = "keeper-bench-Pa55";
const IDLE_SESSIONS: usize = 20;

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// A throwaway `sshd` on a loopback port.
struct Sshd {
    child: std::process::Child,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sshd(dir: &Path) -> Result<Sshd, String> {
    if !is_root() {
        return Err("needs root to create a throwaway user".into());
    }
    if !Path::new(SSHD).exists() {
        println!("installing openssh-server with apt for the comparison");
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "-qq", "openssh-server"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    if Command::new("id")
        .arg(USER)
        .output()
        .map_or(true, |o| !o.status.success())
    {
        run(Command::new("useradd").args(["-m", "-s", "/bin/sh", USER]))?;
    }
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    std::io::Write::write_all(
        chpasswd.stdin.as_mut().ok_or("chpasswd stdin")?,
        format!("{USER}:{USER_PASSWORD}\n").as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    drop(chpasswd.stdin.take());
    if !chpasswd.wait().map_err(|e| e.to_string())?.success() {
        return Err("chpasswd failed".into());
    }
    std::fs::create_dir_all("/run/sshd").map_err(|e| e.to_string())?;
    let key = dir.join("host_ed25519");
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key))?;
    let port = free_port()?;
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nUsePAM no\n\
             PasswordAuthentication yes\nKbdInteractiveAuthentication no\nPubkeyAuthentication no\n\
             PermitRootLogin no\nAllowUsers {USER}\nStrictModes no\nPrintMotd no\nPrintLastLog no\n\
             UseDNS no\nMaxStartups 100\nMaxSessions 100\nLogLevel ERROR\n",
            key.display(),
            dir.join("sshd.pid").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start sshd: {e}"))?;
    let sshd = Sshd { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("sshd did not start listening".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(sshd)
}

/// An `ssh` command that takes its password from `askpass`.
fn ssh(port: u16, askpass: &Path, target: &str) -> Command {
    let mut cmd = Command::new("ssh");
    cmd.args(["-p", &port.to_string()])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args(["-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no"])
        .args([
            "-o",
            "PreferredAuthentications=password,keyboard-interactive",
        ])
        .args(["-o", "NumberOfPasswordPrompts=1"])
        .env("SSH_ASKPASS", askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", ":0")
        .arg(target);
    cmd
}

fn askpass(dir: &Path, name: &str, secret: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\necho '{secret}'\n")).map_err(|e| e.to_string())?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| e.to_string())?;
    Ok(path)
}

/// Wall time of `count` runs of `cmd` with `stdin`; every run must succeed.
fn time_runs(
    mut make: impl FnMut() -> Command,
    stdin: &str,
    count: usize,
) -> Result<Vec<Duration>, String> {
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let mut cmd = make();
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let t = Instant::now();
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        if let Some(mut input) = child.stdin.take() {
            std::io::Write::write_all(&mut input, stdin.as_bytes()).map_err(|e| e.to_string())?;
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        times.push(t.elapsed());
        if !out.status.success() {
            return Err(format!(
                "{cmd:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(times)
}

/// Proportional set size (KiB) of `pid` and all its descendants.
fn tree_pss_kib(root: u32) -> u64 {
    let mut parents = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // The fields after the parenthesised command name: state, ppid, …
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree.iter().map(|pid| pss_kib(*pid)).sum()
}

fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Opens `count` interactive `ssh -tt` sessions, each answered at `prompts`
/// in turn (`(wait for, then send)`), and waits for `ready` in each.
async fn interactive_sessions(
    make: impl Fn() -> Command,
    script: &[(&str, &str)],
    ready: &str,
    count: usize,
) -> Result<Vec<tokio::process::Child>, String> {
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        let mut cmd = tokio::process::Command::from(make());
        cmd.arg("-tt")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        let mut stdout = child.stdout.take().ok_or("stdout")?;
        let mut stdin = child.stdin.take().ok_or("stdin")?;
        let mut seen = Vec::new();
        let mut steps = script.iter();
        let mut next = steps.next();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = String::from_utf8_lossy(&seen).into_owned();
            if let Some((wait, send)) = next
                && text.contains(wait)
            {
                stdin
                    .write_all(send.as_bytes())
                    .await
                    .map_err(|e| e.to_string())?;
                seen.clear();
                next = steps.next();
                continue;
            }
            if next.is_none() && text.contains(ready) {
                break;
            }
            let mut buf = [0u8; 4096];
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, stdout.read(&mut buf)).await {
                Ok(Ok(0)) | Err(_) => {
                    return Err(format!("session did not reach {ready:?}: {text:?}"));
                }
                Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
                Ok(Err(e)) => return Err(e.to_string()),
            }
        }
        // Keep stdin open (the session stays up) and drain nothing more.
        child.stdin = Some(stdin);
        child.stdout = Some(stdout);
        held.push(child);
    }
    Ok(held)
}

/// Runs the comparison; returns the table rows.
pub async fn compare(samples: usize) -> Result<Vec<Row>, String> {
    if Command::new("ssh").arg("-V").output().is_err() {
        return Err("the OpenSSH client `ssh` is not installed".into());
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let sshd = start_sshd(dir.path())?;
    let keeper = Server::start(&[])?;
    super::http::register_and_login(
        keeper.http,
        "alice",
        super::super::PASSWORD,
        super::super::PIN,
    )
    .await?;
    let sshd_pass = askpass(dir.path(), "sshd-askpass", USER_PASSWORD)?;
    let keeper_pass = askpass(dir.path(), "keeper-askpass", super::super::PASSWORD)?;
    let sshd_target = format!("{USER}@127.0.0.1");
    let keeper_target = "alice@127.0.0.1";
    let keeper_port = keeper.ssh.port();
    let pin_line = format!("{}\n", super::super::PIN);

    // Login to first output, alternating so both see the same machine.
    let mut openssh_times = Vec::new();
    let mut keeper_times = Vec::new();
    for _ in 0..samples {
        openssh_times.extend(time_runs(
            || {
                let mut c = ssh(sshd.port, &sshd_pass, &sshd_target);
                c.arg("true");
                c
            },
            "",
            1,
        )?);
        keeper_times.extend(time_runs(
            || {
                let mut c = ssh(keeper_port, &keeper_pass, keeper_target);
                c.arg("whoami");
                c
            },
            &pin_line,
            1,
        )?);
    }
    let p50 = |t: &[Duration]| quantile(t, 0.5).as_secs_f64() * 1000.0;
    let mut rows = vec![
        Row::latency(
            "`ssh host true`, OpenSSH sshd (login to exit)",
            &openssh_times,
        ),
        Row::latency(
            "`ssh host whoami`, Keeper (login, PIN, exit)",
            &keeper_times,
        ),
        Row::ratio(
            "  ratio sshd / Keeper (p50)",
            p50(&openssh_times) / p50(&keeper_times),
        ),
    ];

    // Memory per idle interactive session, N of each.
    let sshd_pid = sshd.child.id();
    let before = tree_pss_kib(sshd_pid);
    let held = interactive_sessions(
        || ssh(sshd.port, &sshd_pass, &sshd_target),
        &[],
        "$ ",
        IDLE_SESSIONS,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let openssh_per = tree_pss_kib(sshd_pid).saturating_sub(before) / IDLE_SESSIONS as u64;
    drop(held);

    // Argon2's working memory stays mapped for 2 s after a login (for the
    // next one to reuse): both of Keeper's measurements wait it out.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let before = tree_pss_kib(keeper.pid());
    let pin_cr = format!("{}\r", super::super::PIN);
    let held = interactive_sessions(
        || ssh(keeper_port, &keeper_pass, keeper_target),
        &[("PIN: ", &pin_cr)],
        "alice@keeper> ",
        IDLE_SESSIONS,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let keeper_per = tree_pss_kib(keeper.pid()).saturating_sub(before) / IDLE_SESSIONS as u64;
    drop(held);

    rows.push(Row::memory(
        &format!("memory per idle interactive session, OpenSSH ({IDLE_SESSIONS} held, PSS)"),
        openssh_per,
    ));
    rows.push(Row::memory(
        &format!("memory per idle interactive session, Keeper ({IDLE_SESSIONS} held, PSS)"),
        keeper_per,
    ));
    rows.push(Row::ratio(
        "  ratio OpenSSH / Keeper (target ≥ 20)",
        openssh_per as f64 / keeper_per.max(1) as f64,
    ));
    Ok(rows)
}
