//! Identifiers. idhub issues Okta-shaped ids: a three-character type prefix followed by
//! random base62 characters, 20 characters in all (`00u…` users, `00g…` groups).

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Random base62 text of the given length, from the OS-seeded thread RNG.
pub fn random_base62(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// A new id with an Okta-style prefix, 20 characters long.
pub fn new_id(prefix: &str) -> String {
    let mut s = String::with_capacity(20);
    s.push_str(prefix);
    s.push_str(&random_base62(20usize.saturating_sub(prefix.len())));
    s
}

macro_rules! typed_id {
    ($(#[$m:meta])* $name:ident, $prefix:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);
        impl $name {
            /// The id prefix Okta uses for this kind of object.
            pub const PREFIX: &'static str = $prefix;
            /// A fresh random id.
            pub fn generate() -> Self { Self(new_id($prefix)) }
            /// The id as text.
            pub fn as_str(&self) -> &str { &self.0 }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(&self.0) }
        }
    };
}

typed_id!(/// An org (tenant).
    OrgId, "00o");
typed_id!(/// A user of one org.
    UserId, "00u");
typed_id!(/// A group of one org.
    GroupId, "00g");
typed_id!(/// An API token's id (not the secret).
    TokenId, "00T");
typed_id!(/// A user type.
    UserTypeId, "oty");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_prefix_and_length() {
        let u = UserId::generate();
        assert!(u.as_str().starts_with("00u"));
        assert_eq!(u.as_str().len(), 20);
        assert_ne!(UserId::generate(), UserId::generate());
    }
}
