//! A real SMTP server for the tests: Python's aiosmtpd (installed by `make test`), storing
//! every message it accepts in a Maildir that the test reads back and parses.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{free_port, wait_for_port, Proc};

/// A received mail, parsed.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub from: String,
    pub subject: String,
    pub message_id: String,
    pub text: String,
    pub html: String,
    /// the message as received, for privacy checks
    pub raw: String,
}

pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    _proc: Proc,
}

impl SmtpServer {
    /// A free port for a server started later (the config names it first).
    pub fn port() -> u16 {
        free_port()
    }

    /// Starts aiosmtpd on `port`, storing into `dir/maildir` (the privacy scan reads it).
    pub fn start(dir: &std::path::Path, port: u16) -> Self {
        Self::start_with(dir, port, &[])
    }

    /// A self-signed certificate and key for `localhost`, made for the test, as PEM files in
    /// `dir` (the certificate doubles as notify's `ca_file`).
    pub fn tls_files(dir: &std::path::Path) -> (PathBuf, PathBuf) {
        let key = rcgen::KeyPair::generate().expect("a key pair");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .expect("certificate parameters")
            .self_signed(&key)
            .expect("a self-signed certificate");
        let (cert_file, key_file) = (dir.join("smtp-cert.pem"), dir.join("smtp-key.pem"));
        std::fs::write(&cert_file, cert.pem()).expect("write certificate");
        std::fs::write(&key_file, key.serialize_pem()).expect("write key");
        (cert_file, key_file)
    }

    /// Starts aiosmtpd on `port` requiring STARTTLS with the given certificate and key.
    pub fn start_tls(dir: &std::path::Path, port: u16, cert: &Path, key: &Path) -> Self {
        let args = [
            "--tlscert".to_owned(),
            cert.display().to_string(),
            "--tlskey".to_owned(),
            key.display().to_string(),
        ];
        Self::start_with(dir, port, &args)
    }

    fn start_with(dir: &std::path::Path, port: u16, extra: &[String]) -> Self {
        let maildir = dir.join("maildir");
        let log = dir.join("smtp.log");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(extra)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("smtp log"))
            .spawn()
            .expect("python3 -m aiosmtpd (make test installs aiosmtpd)");
        let proc = Proc::adopt("smtp", child, log);
        wait_for_port(port, Duration::from_secs(20));
        Self {
            port,
            maildir,
            _proc: proc,
        }
    }

    /// How many mails arrived so far (cheap: no parsing).
    pub fn count(&self) -> usize {
        ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir.join(sub)).ok())
            .map(|d| d.count())
            .sum()
    }

    /// Every mail received so far, in no particular order.
    pub fn mails(&self) -> Vec<Mail> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(rd) = std::fs::read_dir(self.maildir.join(sub)) else {
                continue;
            };
            for e in rd.flatten() {
                let Ok(bytes) = std::fs::read(e.path()) else {
                    continue;
                };
                out.push(parse(&bytes));
            }
        }
        out
    }
}

fn parse(bytes: &[u8]) -> Mail {
    let m = mail_parser::MessageParser::default()
        .parse(bytes)
        .expect("a parsable mail");
    let addrs = |a: Option<&mail_parser::Address>| -> Vec<String> {
        a.map(|a| {
            a.iter()
                .filter_map(|x| x.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
    };
    Mail {
        to: addrs(m.to()),
        from: addrs(m.from()).join(","),
        subject: m.subject().unwrap_or_default().to_owned(),
        message_id: m.message_id().unwrap_or_default().to_owned(),
        text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        raw: String::from_utf8_lossy(bytes).into_owned(),
    }
}
