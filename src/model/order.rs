//! Reachability between parts, for "may these two run at the same time?".

/// Which parts (transitively) wait for which, answered in O(1).
///
/// Built from the condensation of the part graph (each strongly connected
/// component, i.e. each cycle, is one node): for every component a bitset of
/// the components reachable from it. Memory is `c² / 8` bytes for `c`
/// components (12.5 MB for 10 000 parts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reachability {
    /// The component of each node.
    component: Vec<u32>,
    /// Whether each component is a cycle (its nodes reach each other).
    cyclic: Vec<bool>,
    /// `words` u64 per component.
    words: usize,
    bits: Vec<u64>,
}

impl Reachability {
    /// `component[node]` numbers the components so that every edge between
    /// different components goes from a lower to a higher number (a
    /// topological numbering); `successors(c)` lists the components directly
    /// after component `c`.
    pub(crate) fn new(
        component: Vec<u32>,
        cyclic: Vec<bool>,
        successors: &dyn Fn(usize) -> Vec<u32>,
    ) -> Reachability {
        let count = cyclic.len();
        let words = count.div_ceil(64);
        let mut bits = vec![0u64; count * words];
        // Later components first: every successor is complete when read.
        for c in (0..count).rev() {
            for s in successors(c) {
                let s = s as usize;
                debug_assert!(s > c, "components must be numbered topologically");
                let (head, tail) = bits.split_at_mut(s * words);
                let target = &mut head[c * words..(c + 1) * words];
                for (t, &from) in target.iter_mut().zip(&tail[..words]) {
                    *t |= from;
                }
                target[s / 64] |= 1 << (s % 64);
            }
        }
        Reachability {
            component,
            cyclic,
            words,
            bits,
        }
    }

    /// Whether `to` is reachable from `from` by one or more edges.
    pub fn reaches(&self, from: usize, to: usize) -> bool {
        let (Some(&a), Some(&b)) = (self.component.get(from), self.component.get(to)) else {
            return false;
        };
        let (a, b) = (a as usize, b as usize);
        if a == b {
            return self.cyclic[a];
        }
        self.bits[a * self.words + b / 64] & (1 << (b % 64)) != 0
    }

    /// Different nodes, neither reachable from the other.
    pub fn may_run_together(&self, a: usize, b: usize) -> bool {
        a != b && !self.reaches(a, b) && !self.reaches(b, a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diamond() {
        // 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3; 4 alone
        let succ = [vec![1, 2], vec![3], vec![3], vec![], vec![]];
        let r = Reachability::new(vec![0, 1, 2, 3, 4], vec![false; 5], &|c| succ[c].clone());
        assert!(r.reaches(0, 3));
        assert!(!r.reaches(3, 0));
        assert!(!r.reaches(0, 0));
        assert!(r.may_run_together(1, 2));
        assert!(!r.may_run_together(1, 3));
        assert!(r.may_run_together(4, 0));
        assert!(!r.may_run_together(2, 2));
    }

    #[test]
    fn cycles_are_one_component() {
        // nodes 0 and 1 form a cycle (component 0), node 2 after it
        let succ = [vec![1], vec![]];
        let r = Reachability::new(vec![0, 0, 1], vec![true, false], &|c| succ[c].clone());
        assert!(r.reaches(0, 1) && r.reaches(1, 0) && r.reaches(0, 0));
        assert!(r.reaches(1, 2));
        assert!(!r.may_run_together(0, 1));
    }

    #[test]
    fn wide_bitsets() {
        // a chain of 200 nodes: every earlier node reaches every later one
        let n = 200;
        let r = Reachability::new((0..n as u32).collect(), vec![false; n], &|c| {
            if c + 1 < n {
                vec![c as u32 + 1]
            } else {
                vec![]
            }
        });
        assert!(r.reaches(0, 199));
        assert!(r.reaches(63, 64) && r.reaches(64, 128));
        assert!(!r.reaches(150, 3));
    }
}
