//! E-mail over SMTP: the notification rendered from `templates/signal.txt` and `signal.html`
//! in Dutch (what needs attention, by when, whom to contact, the link and the action links),
//! sent with lettre over STARTTLS, implicit TLS or (a local relay only) plain SMTP.
//!
//! A rendered mail holds only what the webhook holds: no name, BSN, product or reason. The
//! `Message-ID` derives from the delivery id, so a mail sent again after a crash can be
//! recognised as the same message.

use crate::config::{EmailConfig, SmtpTls};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::message::{Notification, NotificationData};

const TEXT: &str = include_str!("../templates/signal.txt");
const HTML: &str = include_str!("../templates/signal.html");
const DIGEST_TEXT: &str = include_str!("../templates/digest.txt");
const DIGEST_HTML: &str = include_str!("../templates/digest.html");

/// A mail ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// `2026-07-12` as `12 juli 2026`.
pub fn dutch_date(iso: &str) -> String {
    match iso.parse::<jiff::civil::Date>() {
        Ok(d) => schakel_core::domain::wording::dutch_date(d),
        Err(_) => iso.to_owned(),
    }
}

/// What the step asks of the reader.
fn intro(d: &NotificationData) -> String {
    if let Some(endpoint) = &d.disabled_endpoint {
        return format!(
            "Berichten aan contactpersoon {endpoint} mislukken al dagen; Schakel heeft dit eindpunt \
             uitgeschakeld en bewaart de berichten als onbezorgd. Herstel het adres in het \
             adresboek (schakel directory apply) en bezorg de berichten opnieuw \
             (schakel deliveries list --contact, schakel deliveries retry)."
        );
    }
    if let Some(role) = &d.missing_role {
        let at = d
            .institution_name
            .as_deref()
            .or(d.institution.as_deref())
            .unwrap_or("de instelling");
        return format!(
            "Een signaal kon niet worden bezorgd: niemand in het adresboek heeft de rol {role} bij {at}. \
             Voeg een contactpersoon met die rol toe (schakel directory apply) en bezorg het signaal \
             daarna opnieuw (schakel deliveries list --status unroutable, schakel deliveries retry)."
        );
    }
    let text = match (d.step.as_str(), d.task) {
        ("opened", true) => "Er is een warme overdracht nodig. Neem contact op met de andere betrokkenen hieronder en bevestig de overdracht via de link.",
        ("opened", false) => "Er vraagt iets uw aandacht. Bekijk het signaal via de link en onderneem de nodige stappen.",
        ("reminded", _) => "Herinnering: dit signaal staat nog open.",
        ("overdue", _) => "De termijn is verstreken en dit signaal staat nog open. Onderneem zo snel mogelijk actie.",
        ("escalated", _) => "Dit signaal is geëscaleerd omdat het te lang open stond. Onderneem zo snel mogelijk actie.",
        ("resolved", _) => "Dit signaal is opgelost. U hoeft niets meer te doen.",
        ("acknowledged", _) => "De ontvangende partij heeft de overdracht bevestigd. Rond de overdracht samen af.",
        ("completed", _) => "De warme overdracht is afgerond. U hoeft niets meer te doen.",
        ("cancelled", _) => "Dit signaal is vervallen. U hoeft niets meer te doen.",
        _ => "Er is een nieuw bericht over dit signaal.",
    };
    text.to_owned()
}

use schakel_core::domain::wording::escape_html as escape;

/// Replaces every `{{name}}` in `template`; a name without a value is a bug in this file.
fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    debug_assert!(
        !out.contains("{{"),
        "a template placeholder without a value"
    );
    out
}

/// Renders the mail of a notification; `region` names the region in the footer.
pub fn render(n: &Notification, region: &str) -> Rendered {
    let d = &n.data;
    let due = d.due_date.as_deref().map(dutch_date);
    let institution = d.institution_name.clone().or_else(|| d.institution.clone());
    let roles = d.your_roles.join(", ");
    let card = |c: &crate::message::ContactCard| {
        let mut s = c.name.clone();
        if let Some(o) = &c.organisation {
            s.push_str(&format!(" ({o})"));
        }
        s.push_str(&format!(", als {}", c.roles.join(", ")));
        s
    };
    let uncertain = "Let op: de geboortedatum is niet volledig bekend; de termijn is de vroegst mogelijke datum.";

    let mut text_contacts = String::new();
    if !d.contacts.is_empty() {
        text_contacts.push_str("Neem contact op met:\n");
        for c in &d.contacts {
            text_contacts.push_str(&format!("- {}", card(c)));
            if let Some(e) = &c.email {
                text_contacts.push_str(&format!(", {e}"));
            }
            text_contacts.push('\n');
        }
    }
    let text_actions = d.actions.as_ref().map_or(String::new(), |a| {
        format!(
            "\nOntvangst bevestigen: {}\nOverdracht afronden: {}\n",
            a.acknowledge, a.complete
        )
    });
    let text = fill(
        TEXT,
        &[
            ("title", d.title.clone()),
            ("intro", intro(d)),
            (
                "due",
                due.as_ref()
                    .map_or(String::new(), |x| format!("Graag actie vóór {x}.\n")),
            ),
            (
                "uncertain",
                if d.birth_date_uncertain {
                    format!("{uncertain}\n")
                } else {
                    String::new()
                },
            ),
            (
                "institution",
                institution
                    .as_ref()
                    .map_or(String::new(), |i| format!("Instelling: {i}. ")),
            ),
            ("roles", roles.clone()),
            ("contacts", text_contacts),
            ("link", n.dataref.clone()),
            ("actions", text_actions),
            ("signal_id", d.signal_id.clone()),
            ("delivery_id", n.id.clone()),
            ("region", region.to_owned()),
        ],
    );

    let mut html_contacts = String::new();
    if !d.contacts.is_empty() {
        html_contacts.push_str("<p>Neem contact op met:</p>\n<ul>\n");
        for c in &d.contacts {
            html_contacts.push_str(&format!("<li>{}", escape(&card(c))));
            if let Some(e) = &c.email {
                html_contacts.push_str(&format!(", <a href=\"mailto:{0}\">{0}</a>", escape(e)));
            }
            html_contacts.push_str("</li>\n");
        }
        html_contacts.push_str("</ul>\n");
    }
    let html_actions = d.actions.as_ref().map_or(String::new(), |a| {
        format!(
            "<p><a href=\"{}\">Ontvangst bevestigen</a> · <a href=\"{}\">Overdracht afronden</a></p>\n",
            escape(&a.acknowledge),
            escape(&a.complete)
        )
    });
    let html = fill(
        HTML,
        &[
            ("title", escape(&d.title)),
            ("intro", escape(&intro(d))),
            (
                "due",
                due.as_ref().map_or(String::new(), |x| {
                    format!("<p><strong>Graag actie vóór {}.</strong></p>\n", escape(x))
                }),
            ),
            (
                "uncertain",
                if d.birth_date_uncertain {
                    format!("<p>{}</p>\n", escape(uncertain))
                } else {
                    String::new()
                },
            ),
            (
                "institution",
                institution
                    .as_ref()
                    .map_or(String::new(), |i| format!("Instelling: {}. ", escape(i))),
            ),
            ("roles", escape(&roles)),
            ("contacts", html_contacts),
            ("link", escape(&n.dataref)),
            ("actions", html_actions),
            ("signal_id", escape(&d.signal_id)),
            ("delivery_id", escape(&n.id)),
            ("region", escape(region)),
        ],
    );
    let subject = match &due {
        Some(x) if !matches!(d.step.as_str(), "resolved" | "completed" | "cancelled") => {
            format!("[Schakel] {} (vóór {x})", d.title)
        }
        _ => format!("[Schakel] {}", d.title),
    };
    Rendered {
        subject,
        text,
        html,
    }
}

/// Renders a daily digest of `items` for the contact called `contact`.
pub fn render_digest(
    contact: &str,
    items: &[&Notification],
    digest_id: &str,
    region: &str,
) -> Rendered {
    let count = match items.len() {
        1 => "1 signaal".to_owned(),
        n => format!("{n} signalen"),
    };
    let (mut text_items, mut html_items) = (String::new(), String::new());
    for (i, n) in items.iter().enumerate() {
        let d = &n.data;
        let due = d.due_date.as_deref().map(dutch_date);
        let inst = d.institution_name.clone().or_else(|| d.institution.clone());
        text_items.push_str(&format!("{}. {}\n", i + 1, d.title));
        let mut facts = Vec::new();
        if let Some(x) = &due {
            facts.push(format!("Graag actie vóór {x}."));
        }
        if let Some(x) = &inst {
            facts.push(format!("Instelling: {x}."));
        }
        if !facts.is_empty() {
            text_items.push_str(&format!("   {}\n", facts.join(" ")));
        }
        text_items.push_str(&format!("   {}\n\n", n.dataref));
        html_items.push_str(&format!(
            "<li><strong>{}</strong><br>{}{}<a href=\"{}\">Bekijk het signaal</a></li>\n",
            escape(&d.title),
            escape(&facts.join(" ")),
            if facts.is_empty() { "" } else { "<br>" },
            escape(&n.dataref)
        ));
    }
    let vars = |items: String, esc: bool| {
        let e = |s: &str| if esc { escape(s) } else { s.to_owned() };
        vec![
            ("count", e(&count)),
            ("contact", e(contact)),
            ("items", items),
            ("digest_id", e(digest_id)),
            ("region", e(region)),
        ]
    };
    Rendered {
        subject: format!("[Schakel] Dagelijks overzicht: {count}"),
        text: fill(DIGEST_TEXT, &vars(text_items, false)),
        html: fill(DIGEST_HTML, &vars(html_items, true)),
    }
}

/// Why a mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailError {
    /// The SMTP server refused for good (5xx).
    Permanent(String),
    /// No connection, a timeout or a 4xx: try again later.
    Transient(String),
    /// The address or the sender is not a mailbox.
    Address(String),
}

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailError::Permanent(e) => write!(f, "smtp refused: {e}"),
            MailError::Transient(e) => write!(f, "smtp unavailable: {e}"),
            MailError::Address(e) => write!(f, "address: {e}"),
        }
    }
}

/// The SMTP connection pool and sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `smtp:host:port`, the endpoint for concurrency caps
    pub endpoint: String,
}

impl Mailer {
    pub fn new(cfg: &EmailConfig) -> anyhow::Result<Self> {
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("notify.email.from {:?}: {e}", cfg.from))?;
        let tls = || -> anyhow::Result<TlsParameters> {
            let mut b = TlsParameters::builder(cfg.host.clone());
            if let Some(path) = &cfg.ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("notify.email.ca_file {path}: {e}"))?;
                b = b.add_root_certificate(Certificate::from_pem(&pem)?);
            }
            Ok(b.build()?)
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
            .port(cfg.port)
            .timeout(Some(cfg.timeout));
        b = match cfg.tls {
            SmtpTls::Starttls => b.tls(Tls::Required(tls()?)),
            SmtpTls::Tls => b.tls(Tls::Wrapper(tls()?)),
            SmtpTls::None => b.tls(Tls::None),
        };
        if let Some(user) = &cfg.username {
            let pass = cfg.password.as_ref().map_or("", |p| p.expose());
            b = b.credentials(Credentials::new(user.clone(), pass.to_owned()));
        }
        Ok(Self {
            transport: b.build(),
            from,
            endpoint: format!("smtp:{}:{}", cfg.host, cfg.port),
        })
    }

    /// Sends one rendered mail to `to`, with a `Message-ID` derived from `delivery_id`.
    pub async fn send(
        &self,
        to: &str,
        mail: &Rendered,
        delivery_id: &str,
    ) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|e| MailError::Address(format!("{e}")))?;
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{delivery_id}@schakel>")))
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| MailError::Address(e.to_string()))?;
        match self.transport.send(msg).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }
}
