//! "Did you mean ...?": a close name of the right kind, or nothing.

/// The candidate closest to `name`, if it is close enough to be a likely
/// typo: the same name in another case, or one within a Damerau-Levenshtein
/// distance of a third of the longer name (at least 1) whose normalized
/// similarity is at least 0.7. The strict threshold keeps suggestions
/// helpful: `codr` → `coder`, `brif` → `brief`, but `api` never suggests
/// `app`. Ties go to the alphabetically first name, so output is stable.
pub(crate) fn best_match<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let score = similarity(&lower, candidate);
        let Some(score) = score else { continue };
        let better = match best {
            None => true,
            Some((s, c)) => score > s || (score == s && candidate < c),
        };
        if better {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

fn similarity(lower: &str, candidate: &str) -> Option<f64> {
    let other = candidate.to_lowercase();
    if other == lower {
        // Differs only in case: the best possible suggestion.
        return Some(2.0);
    }
    let a = lower.chars().count();
    let b = other.chars().count();
    let longest = a.max(b);
    // Cheap rejection before the quadratic distance.
    if a.abs_diff(b) > (longest / 3).max(1) {
        return None;
    }
    let distance = strsim::damerau_levenshtein(lower, &other);
    let normalized = 1.0 - distance as f64 / longest as f64;
    (distance <= (longest / 3).max(1) && normalized >= 0.7).then_some(normalized)
}

/// `a`, `b` and `c` as "`a`, `b` and `c`" (at most `limit` names, then "...").
pub(crate) fn list<S: AsRef<str>>(names: &[S], limit: usize) -> String {
    let quoted: Vec<String> = names
        .iter()
        .take(limit)
        .map(|n| format!("`{}`", n.as_ref()))
        .collect();
    let mut text = match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    };
    if names.len() > limit {
        text = format!("{}, and {} more", quoted.join(", "), names.len() - limit);
    }
    text
}

/// "`a`, `b` or `c`".
pub(crate) fn alternatives<S: AsRef<str>>(names: &[S]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_ref())).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_typos_are_suggested() {
        assert_eq!(best_match("codr", ["coder", "architect"]), Some("coder"));
        assert_eq!(best_match("brif", ["brief", "budget"]), Some("brief"));
        assert_eq!(
            best_match("Strage", ["Storage", "HttpApi"]),
            Some("Storage")
        );
        assert_eq!(best_match("link_typ", ["link_type"]), Some("link_type"));
        assert_eq!(best_match("text", ["Text", "Int"]), Some("Text"));
    }

    #[test]
    fn far_names_are_not() {
        assert_eq!(best_match("api", ["app"]), None);
        assert_eq!(best_match("x", ["y"]), None);
        assert_eq!(best_match("deploy", ["coder", "store"]), None);
        assert_eq!(best_match("same", ["same"]), None);
        assert_eq!(best_match("anything", Vec::<&str>::new()), None);
    }

    #[test]
    fn ties_are_stable() {
        assert_eq!(best_match("cat", ["cbt", "cet"]), None);
        // the longer name differs relatively less
        assert_eq!(best_match("store", ["stor", "stores"]), Some("stores"));
        assert_eq!(best_match("stored", ["stores", "storef"]), Some("storef"));
    }

    #[test]
    fn lists_read_well() {
        assert_eq!(list(&["a"], 5), "`a`");
        assert_eq!(list(&["a", "b", "c"], 5), "`a`, `b` and `c`");
        assert_eq!(list(&["a", "b", "c"], 2), "`a`, `b`, and 1 more");
        assert_eq!(alternatives(&["x", "y", "z"]), "`x`, `y` or `z`");
    }
}
