//! EMQX version from an image reference, and the environment contract each version needs.

use std::fmt;

/// An EMQX version read from an image tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// `node.role` exists from 5.1.0; 5.0.x reads `node.db_role` (feature-map §2.4).
pub const ROLE_ENV_SINCE: Version = Version {
    major: 5,
    minor: 1,
    patch: 0,
};
/// `api_key.bootstrap_file` exists from 5.0.14.
pub const BOOTSTRAP_FILE_SINCE: Version = Version {
    major: 5,
    minor: 0,
    patch: 14,
};

/// The tag of an image reference (`None` for digests and untagged references).
pub fn image_tag(image: &str) -> Option<&str> {
    if image.contains('@') {
        return None;
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    image[last_slash..].rsplit_once(':').map(|(_, t)| t)
}

/// Reads `5.8.1`, `5.8`, `v5.8.1`, `5.8.1-alpine` from a tag; anything else is `None`.
pub fn parse_tag(tag: &str) -> Option<Version> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let core = t.split(['-', '+', '_']).next()?;
    let mut it = core.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    let patch = match it.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    if it.next().is_some() {
        return None;
    }
    Some(Version {
        major,
        minor,
        patch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(image_tag("emqx/emqx:5.0.6"), Some("5.0.6"));
        assert_eq!(image_tag("registry:5000/emqx/emqx"), None);
        assert_eq!(image_tag("emqx/emqx@sha256:abc"), None);
        assert_eq!(
            parse_tag("5.0.6"),
            Some(Version {
                major: 5,
                minor: 0,
                patch: 6
            })
        );
        assert_eq!(
            parse_tag("5.8"),
            Some(Version {
                major: 5,
                minor: 8,
                patch: 0
            })
        );
        assert_eq!(parse_tag("latest"), None);
        assert_eq!(parse_tag("${EMQX_VERSION}"), None);
    }
}
