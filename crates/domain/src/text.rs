//! Rules on text every surface accepts: no control characters in names, labels and
//! profile strings (they break certificates, headers and logs, and hide in the console).

use crate::DomainError;

/// What a client is told when a field holds a control character.
pub const CONTROL_CHARACTERS: &str = "Must not contain control characters";

/// Does `s` hold a control character (C0, DEL or C1)?
pub fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Refuse a field that holds a control character, naming the field.
pub fn refuse_control(field: &str, value: &str) -> Result<(), DomainError> {
    if has_control(value) {
        Err(DomainError::invalid(field, CONTROL_CHARACTERS))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c0_del_and_c1_are_control_characters() {
        for s in ["a\0", "\t", "\n", "\u{b}", "\u{c}", "\u{7f}", "\u{85}", "\u{9f}"] {
            assert!(has_control(s), "{s:?}");
        }
        for s in ["José Ñandú", "東京", "a b", "\u{a0}"] {
            assert!(!has_control(s), "{s:?}");
        }
        assert_eq!(refuse_control("name", "x\0"), Err(DomainError::invalid("name", CONTROL_CHARACTERS)));
    }
}
