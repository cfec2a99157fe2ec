//! Glob patterns for `keys PATTERN`: `*` matches any run of characters (including `:`),
//! `?` exactly one, and `\` escapes the next character. Anything else matches itself.
//!
//! Matching is iterative with single-star backtracking, so a hostile pattern such as
//! `*a*a*a*a*b` costs O(pattern × key), never exponential time inside the daemon.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("invalid pattern: {len} bytes, the limit is {MAX_PATTERN_LEN}")]
    TooLong { len: usize },
    #[error("invalid pattern `{0}`: it ends in a lone `\\`")]
    TrailingEscape(String),
}

pub const MAX_PATTERN_LEN: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun,
}

#[derive(Debug, Clone)]
pub struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    pub fn parse(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(GlobError::TooLong { len: pattern.len() });
        }
        let mut tokens = Vec::with_capacity(pattern.len());
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            let token = match c {
                '*' => Token::AnyRun,
                '?' => Token::AnyOne,
                '\\' => Token::Literal(
                    chars
                        .next()
                        .ok_or_else(|| GlobError::TrailingEscape(pattern.to_owned()))?,
                ),
                c => Token::Literal(c),
            };
            // `**` means the same as `*`; folding keeps the backtracking linear.
            if !(token == Token::AnyRun && tokens.last() == Some(&Token::AnyRun)) {
                tokens.push(token);
            }
        }
        Ok(Glob { tokens })
    }

    /// Matches everything; what `keys` with no pattern uses.
    pub fn any() -> Glob {
        Glob {
            tokens: vec![Token::AnyRun],
        }
    }

    /// The same pattern as a SQL `LIKE` pattern with `\` as the escape character.
    pub fn to_like(&self) -> String {
        let mut like = String::with_capacity(self.tokens.len());
        for token in &self.tokens {
            match token {
                Token::AnyRun => like.push('%'),
                Token::AnyOne => like.push('_'),
                Token::Literal(c) => {
                    if matches!(c, '%' | '_' | '\\') {
                        like.push('\\');
                    }
                    like.push(*c);
                }
            }
        }
        like
    }

    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let (mut t, mut p) = (0, 0);
        let mut backtrack: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::AnyRun) => {
                    backtrack = Some((p, t));
                    p += 1;
                }
                Some(Token::AnyOne) => {
                    p += 1;
                    t += 1;
                }
                Some(Token::Literal(c)) if *c == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match backtrack {
                    Some((star_p, star_t)) => {
                        p = star_p + 1;
                        t = star_t + 1;
                        backtrack = Some((star_p, star_t + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[p..].iter().all(|tok| *tok == Token::AnyRun)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        Glob::parse(pattern).unwrap().matches(text)
    }

    #[test]
    fn stars_and_questions() {
        assert!(m("component:react:*", "component:react:button"));
        assert!(!m("component:react:*", "component:vue:button"));
        assert!(m("*:react:*", "demo:react:card"));
        assert!(m("*", ""));
        assert!(m("block:*:dashboard-0?", "block:react:dashboard-01"));
        assert!(!m("block:*:dashboard-0?", "block:react:dashboard-012"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(!m("a*b*c", "aXbY"));
        assert!(m("exact:key", "exact:key"));
        assert!(!m("exact:key", "exact:keys"));
    }

    #[test]
    fn escapes() {
        assert!(m(r"a:\*", "a:*"));
        assert!(!m(r"a:\*", "a:b"));
        assert!(Glob::parse("a\\").is_err());
    }

    #[test]
    fn like_translation_escapes_sql_wildcards() {
        assert_eq!(Glob::parse("component:*").unwrap().to_like(), "component:%");
        assert_eq!(Glob::parse("a_b?c%").unwrap().to_like(), "a\\_b_c\\%");
        assert_eq!(Glob::parse(r"x\*").unwrap().to_like(), "x*");
    }

    #[test]
    fn hostile_pattern_is_linear() {
        let pattern = "*a".repeat(200) + "b";
        let text = "a".repeat(500);
        assert!(!m(&pattern, &text));
    }
}
