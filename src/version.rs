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

/// The tag of an image reference, read before any digest (`repo:5.8.9@sha256:…` is 5.8.9);
/// `None` for a digest alone and untagged references.
pub fn image_tag(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    name[last_slash..].rsplit_once(':').map(|(_, t)| t)
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

/// From 5.9.0 every image runs under the BSL: more than one node needs a licence.
pub const LICENSE_FOR_CLUSTERS_SINCE: Version = Version {
    major: 5,
    minor: 9,
    patch: 0,
};

/// Whether the image is the Enterprise edition (`.../emqx-enterprise:...`, or any 5.9+ image,
/// which is one edition).
pub fn is_enterprise(image: &str, version: Option<Version>) -> bool {
    // The last path segment without tag or digest: `registry:5000/emqx/emqx-enterprise:5.8.6`.
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.split(':')
        .next()
        .is_some_and(|n| n.contains("enterprise"))
        || version.is_some_and(|v| v >= LICENSE_FOR_CLUSTERS_SINCE)
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

    fn v(s: &str) -> Version {
        parse_tag(s).unwrap()
    }

    #[test]
    fn tags_are_read_before_digests() {
        let d = "sha256:4f1e0c7a2b9d8e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";
        assert_eq!(image_tag(&format!("emqx/emqx:5.8.9@{d}")), Some("5.8.9"));
        assert_eq!(
            image_tag(&format!("registry:5000/emqx/emqx-enterprise:5.8.6@{d}")),
            Some("5.8.6")
        );
        assert_eq!(image_tag(&format!("emqx/emqx@{d}")), None);
        assert_eq!(image_tag("registry:5000/emqx/emqx"), None);
    }

    #[test]
    fn editions() {
        assert!(is_enterprise(
            "emqx/emqx-enterprise:5.8.6",
            Some(v("5.8.6"))
        ));
        assert!(is_enterprise(
            "registry:5000/emqx/emqx-enterprise:5.8.6",
            Some(v("5.8.6"))
        ));
        assert!(!is_enterprise("emqx/emqx:5.8.6", Some(v("5.8.6"))));
        assert!(is_enterprise("emqx/emqx:5.9.0", Some(v("5.9.0"))));
    }
}
