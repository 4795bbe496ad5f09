//! Kubernetes' rules for names: DNS labels and subdomains, IANA service names (port names).
//! A leaf: every layer that checks a name uses these.

/// Why `s` is not a DNS-1123 label (lowercase alphanumerics and `-`, at most 63, alphanumeric ends).
pub fn dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    if s.len() > 63 {
        return Err(format!("is {} characters long (at most 63)", s.len()));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("may only hold lowercase letters, digits and `-`".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// Why `s` is not an IANA service name (container port names): 1-15 characters, lowercase
/// alphanumerics and `-`, at least one letter, no `-` at either end or twice in a row.
pub fn iana_svc_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 15 {
        return Err(format!("is {} characters long (1 to 15)", s.len()));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("may only hold lowercase letters, digits and `-`".into());
    }
    if !s.chars().any(|c| c.is_ascii_lowercase()) {
        return Err("must contain a letter".into());
    }
    if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        return Err("must not start or end with `-` or hold `--`".into());
    }
    Ok(())
}

/// Why `s` is not a DNS-1123 subdomain (dot-separated labels, at most 253 characters).
pub fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.len() > 253 {
        return Err("is longer than 253 characters".into());
    }
    for part in s.split('.') {
        dns_label(part)?;
    }
    Ok(())
}
