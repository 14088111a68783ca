//! A person logged in to the monitor, for tests that read its pages over HTTP.

use reqwest::header::{COOKIE, SET_COOKIE};

use crate::Env;

/// A person logged in to the monitor (cookies by hand, no redirects followed).
pub struct Session {
    base: String,
    http: reqwest::Client,
    cookie: String,
}

impl Session {
    /// Logs `who` in with a local account on the monitor's login form.
    pub async fn login(env: &Env, password: &str, who: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let base = env.monitor_url();
        let r = http.get(format!("{base}/login")).send().await.unwrap();
        let anon = cookie_of(&r);
        let page = r.text().await.unwrap();
        let at = page.find(r#"name="csrf" value=""#).unwrap() + 19;
        let csrf = page[at..at + page[at..].find('"').unwrap()].to_owned();
        let r = http
            .post(format!("{base}/login"))
            .header(COOKIE, &anon)
            .form(&[
                ("csrf", csrf.as_str()),
                ("gebruikersnaam", who),
                ("wachtwoord", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{who} logs in");
        let cookie = cookie_of(&r);
        Self { base, http, cookie }
    }

    /// GET `path` in the session: the status and the body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

/// The `name=value` of the cookie an answer sets.
fn cookie_of(r: &reqwest::Response) -> String {
    r.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}
