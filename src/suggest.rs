//! "Did you mean": the names closest to a misspelt one, for not-found answers.

/// The closest candidate to a misspelt name, if one is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of neighbours as one edit (optimal string alignment): the
/// typos people make in names (`crad`, `alert-dailog`).
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// Up to `n` candidates close enough to be likely typos or neighbours of `name`, closest
/// first (a name the candidate contains, or that contains it, counts as close).
pub fn near<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let mut close: Vec<_> = candidates
        .into_iter()
        .filter_map(|c| {
            let d = distance(name, c);
            let related = c.contains(name) || name.contains(c);
            (d <= limit || related).then_some((d, c))
        })
        .collect();
    close.sort_by_key(|(d, c)| (*d, c.len(), *c));
    close.dedup_by_key(|(_, c)| *c);
    close.into_iter().take(n).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_names_closest_first() {
        let names = ["button", "button-group", "badge", "card", "buttons-demo"];
        assert_eq!(near("buton", names, 3), ["button"]);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("crad", "card"), 1);
        assert_eq!(near("button", names, 2), ["button", "button-group"]);
        assert!(near("zzzzzz", names, 3).is_empty());
    }
}
