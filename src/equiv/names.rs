//! Finding a measured device by the words of its name, so `--reference llvmpipe` finds
//! "llvmpipe (LLVM 15.0.6, 256 bits)": every word of the request must be a word of the name
//! (as slugs), and exactly one device may match.

use crate::results::slug;

/// The one candidate `(id, name)` whose name holds every word of `wanted`; `Ok(None)` when none
/// does, `Err` with the ids when several do (the request is ambiguous and must not be guessed).
pub fn unique_by_words<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Option<&'a str>, Vec<&'a str>> {
    let wanted_slug = slug(wanted);
    let words: Vec<&str> = wanted_slug.split('-').collect();
    let mut found: Vec<&str> = candidates
        .into_iter()
        .filter(|(_, name)| {
            let name_slug = slug(name);
            let have: Vec<&str> = name_slug.split('-').collect();
            words.iter().all(|w| have.contains(w))
        })
        .map(|(id, _)| id)
        .collect();
    found.dedup();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICES: [(&str, &str); 3] = [
        (
            "llvmpipe-llvm-15-0-6-256-bits",
            "llvmpipe (LLVM 15.0.6, 256 bits)",
        ),
        ("nvidia-rtx-a6000", "NVIDIA RTX A6000"),
        ("nvidia-rtx-4090", "NVIDIA GeForce RTX 4090"),
    ];

    #[test]
    fn one_word_of_the_name_is_enough_when_it_is_unique() {
        assert_eq!(
            unique_by_words("llvmpipe", DEVICES),
            Ok(Some("llvmpipe-llvm-15-0-6-256-bits"))
        );
        assert_eq!(
            unique_by_words("RTX 4090", DEVICES),
            Ok(Some("nvidia-rtx-4090"))
        );
    }

    #[test]
    fn no_match_and_ambiguous_matches_are_told_apart() {
        assert_eq!(unique_by_words("h100", DEVICES), Ok(None));
        // Words are whole words: "llvm" is a word of the name, "llvmp" is not.
        assert_eq!(unique_by_words("llvmp", DEVICES), Ok(None));
        assert_eq!(
            unique_by_words("nvidia rtx", DEVICES),
            Err(vec!["nvidia-rtx-a6000", "nvidia-rtx-4090"])
        );
    }
}
