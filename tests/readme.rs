//! The README's curl session works as written (against a test server's port).

mod helpers;

use helpers::TestServer;

/// The first ```sh block after the "HTTP API" heading.
fn curl_session() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let section = &readme[readme.find("## HTTP API").expect("HTTP API section")..];
    let start = section.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let end = start + section[start..].find("```").expect("block end");
    section[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_curl_session_works_verbatim() {
    let server = TestServer::start().await;
    let script = curl_session();
    assert!(
        script.contains("localhost:8080"),
        "the README speaks of the default port"
    );
    let script = format!(
        "set -e\n{}",
        script.replace("localhost:8080", &server.http_addr.to_string())
    );

    let out = tokio::task::block_in_place(|| {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .expect("bash")
    });

    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(r#""login":"bob""#), "{stdout}");
    assert!(
        stdout.contains(r#""number":"4111111111111111""#),
        "{stdout}"
    );
    assert!(stdout.contains(r#""last4":"1111""#), "{stdout}");
    assert!(!stdout.contains("problem"), "an error came back: {stdout}");
}
