//! The pass over a regex's text: simpler texts made through the regex's syntax tree.
//!
//! In: a regex's syntax tree and the best text (which matches it). Out: candidates tried
//! through [`Search::attempt`]. The text is first parsed back into the tree (which
//! alternative each alternation took, which span each repetition's instances cover); then
//! each node's span is replaced by the node's own shortlex-smallest match, an alternation's
//! by each other alternative's smallest match, and a repetition loses one instance at a
//! time. Deleting and lowering bytes cannot leave an alternative (`abc|x` from `abc` by
//! deletion gives `ab`, `bc`, ..., none of which match); these can.

use std::collections::HashMap;

use regex_syntax::hir::{Class, Hir, HirKind};

use super::Search;
use crate::input::generate::shortest;
use crate::spec::Pattern;

/// Longer texts skip this pass: the parse costs up to length² steps per node.
const MAX_TEXT: usize = 1024;
/// The most parse steps one text may take before the pass gives up on it.
const MAX_STEPS: usize = 200_000;
/// The most improvements one call of the pass makes before the other passes run.
const MAX_ROUNDS: usize = 64;

impl<F> Search<'_, F> {
    pub(super) fn pattern_pass(&mut self, name: &str, pattern: &Pattern) {
        for _ in 0..MAX_ROUNDS {
            let text = self.current(name).bytes().to_vec();
            let Some(candidates) = candidates(&pattern.hir, &text) else {
                self.unparsed = true;
                return;
            };
            let mut improved = false;
            for candidate in candidates {
                if self.stop.is_some() {
                    return;
                }
                if self.attempt_value(name, crate::spec::Value::Bytes(candidate)) {
                    improved = true;
                    break;
                }
            }
            if !improved {
                return;
            }
        }
    }
}

/// The texts one structural simplification away from `text`, simplest first; `None` when
/// `text` cannot be parsed within the limits.
pub fn candidates(hir: &Hir, text: &[u8]) -> Option<Vec<Vec<u8>>> {
    if text.len() > MAX_TEXT {
        return None;
    }
    let mut parser = Parser {
        text,
        ends: HashMap::new(),
        steps: 0,
    };
    if !parser.ends(hir, 0)?.contains(&text.len()) {
        return None;
    }
    let mut out = Vec::new();
    parser.collect(hir, 0, text.len(), &mut out)?;
    out.retain(|c| c.as_slice() != text);
    out.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
    out.dedup();
    Some(out)
}

struct Parser<'t> {
    text: &'t [u8],
    /// Where each node can end when it starts at a position, by node address.
    ends: HashMap<(*const Hir, usize), Vec<usize>>,
    steps: usize,
}

impl Parser<'_> {
    fn tick(&mut self) -> Option<()> {
        self.steps += 1;
        (self.steps <= MAX_STEPS).then_some(())
    }

    /// Every position where `hir` can end a match that starts at `start`, ascending.
    fn ends(&mut self, hir: &Hir, start: usize) -> Option<Vec<usize>> {
        if let Some(known) = self.ends.get(&(hir as *const Hir, start)) {
            return Some(known.clone());
        }
        self.tick()?;
        let text = self.text;
        let mut out = match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => vec![start],
            HirKind::Literal(lit) => match text[start..].starts_with(&lit.0) {
                true => vec![start + lit.0.len()],
                false => Vec::new(),
            },
            HirKind::Class(class) => char_at(class, &text[start..])
                .map(|n| vec![start + n])
                .unwrap_or_default(),
            HirKind::Capture(cap) => self.ends(&cap.sub, start)?,
            HirKind::Concat(parts) => self.seq_ends(parts, start)?,
            HirKind::Alternation(alternatives) => {
                let mut all = Vec::new();
                for alternative in alternatives {
                    all.extend(self.ends(alternative, start)?);
                }
                all
            }
            HirKind::Repetition(rep) => {
                let max = rep.max.map_or(usize::MAX, |m| m as usize);
                let min = rep.min as usize;
                let mut all = Vec::new();
                // States: (position, instances so far, capped at the minimum when there
                // is no maximum, since more instances then change nothing).
                let mut todo = vec![(start, 0usize)];
                let mut visited = std::collections::HashSet::new();
                while let Some((p, k)) = todo.pop() {
                    self.tick()?;
                    if !visited.insert((p, k)) {
                        continue;
                    }
                    if k >= min {
                        all.push(p);
                    }
                    if k >= max {
                        continue;
                    }
                    for m in self.ends(&rep.sub, p)? {
                        if m == p && k >= min {
                            continue;
                        }
                        let next = if rep.max.is_none() {
                            (k + 1).min(min)
                        } else {
                            k + 1
                        };
                        todo.push((m, next));
                    }
                }
                all
            }
        };
        out.sort_unstable();
        out.dedup();
        self.ends.insert((hir as *const Hir, start), out.clone());
        Some(out)
    }

    /// The ends of `parts` matched one after another from `start`.
    fn seq_ends(&mut self, parts: &[Hir], start: usize) -> Option<Vec<usize>> {
        let mut at = vec![start];
        for part in parts {
            let mut next = Vec::new();
            for p in at {
                next.extend(self.ends(part, p)?);
            }
            next.sort_unstable();
            next.dedup();
            at = next;
        }
        Some(at)
    }

    /// Pushes onto `out` the candidates of the node `hir` matching `start..end` and of the
    /// nodes inside it.
    fn collect(
        &mut self,
        hir: &Hir,
        start: usize,
        end: usize,
        out: &mut Vec<Vec<u8>>,
    ) -> Option<()> {
        self.tick()?;
        out.push(self.splice(start, end, &shortest(hir)));
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) | HirKind::Literal(_) | HirKind::Class(_) => {}
            HirKind::Capture(cap) => self.collect(&cap.sub, start, end, out)?,
            HirKind::Alternation(alternatives) => {
                let mut taken = None;
                for (i, alternative) in alternatives.iter().enumerate() {
                    if taken.is_none() && self.ends(alternative, start)?.contains(&end) {
                        taken = Some(i);
                    } else {
                        out.push(self.splice(start, end, &shortest(alternative)));
                    }
                }
                let i = taken?;
                self.collect(&alternatives[i], start, end, out)?;
            }
            HirKind::Concat(parts) => {
                let mut p = start;
                for (i, part) in parts.iter().enumerate() {
                    let mut chosen = None;
                    for m in self.ends(part, p)? {
                        if self.seq_ends(&parts[i + 1..], m)?.contains(&end) {
                            chosen = Some(m);
                            break;
                        }
                    }
                    let m = chosen?;
                    self.collect(part, p, m, out)?;
                    p = m;
                }
            }
            HirKind::Repetition(rep) => {
                let spans = self.instances(&rep.sub, rep.min as usize, rep.max, start, end)?;
                if spans.len() > rep.min as usize {
                    for &(s, e) in spans.iter().rev() {
                        out.push(self.splice(s, e, b""));
                    }
                }
                for (s, e) in spans {
                    self.collect(&rep.sub, s, e, out)?;
                }
            }
        }
        Some(())
    }

    /// The spans of a repetition's instances that cover `start..end`: the fewest instances
    /// first, each as long as it can be.
    fn instances(
        &mut self,
        sub: &Hir,
        min: usize,
        max: Option<u32>,
        start: usize,
        end: usize,
    ) -> Option<Vec<(usize, usize)>> {
        let max = max.map_or(usize::MAX, |m| m as usize);
        let mut spans = Vec::new();
        let mut p = start;
        while p < end || spans.len() < min {
            self.tick()?;
            if spans.len() >= max {
                return None;
            }
            let need = min.saturating_sub(spans.len() + 1);
            let mut next = None;
            for m in self.ends(sub, p)?.into_iter().rev() {
                if m == p && spans.len() >= min {
                    continue;
                }
                if self.can_finish(sub, need, max - spans.len() - 1, m, end)? {
                    next = Some(m);
                    break;
                }
            }
            let m = next?;
            spans.push((p, m));
            p = m;
        }
        Some(spans)
    }

    /// Whether at least `need` and at most `left` more instances of `sub` cover `p..end`.
    fn can_finish(
        &mut self,
        sub: &Hir,
        need: usize,
        left: usize,
        p: usize,
        end: usize,
    ) -> Option<bool> {
        let mut at = vec![p];
        for k in 0..=left.min(self.text.len() + need) {
            self.tick()?;
            if k >= need && at.contains(&end) {
                return Some(true);
            }
            if at.is_empty() || k == left {
                return Some(false);
            }
            let mut next = Vec::new();
            for q in at {
                next.extend(self.ends(sub, q)?.into_iter().filter(|&m| m <= end));
            }
            next.sort_unstable();
            next.dedup();
            at = next;
        }
        Some(false)
    }

    fn splice(&self, start: usize, end: usize, with: &[u8]) -> Vec<u8> {
        let mut out = self.text[..start].to_vec();
        out.extend_from_slice(with);
        out.extend_from_slice(&self.text[end..]);
        out
    }
}

/// The length of the character `class` matches at the start of `rest`, if it does.
fn char_at(class: &Class, rest: &[u8]) -> Option<usize> {
    match class {
        Class::Bytes(c) => {
            let b = *rest.first()?;
            c.ranges()
                .iter()
                .any(|r| (r.start()..=r.end()).contains(&b))
                .then_some(1)
        }
        Class::Unicode(c) => {
            let n = (1..=rest.len().min(4)).find(|&n| std::str::from_utf8(&rest[..n]).is_ok())?;
            let ch = std::str::from_utf8(&rest[..n]).ok()?.chars().next()?;
            c.ranges()
                .iter()
                .any(|r| (r.start()..=r.end()).contains(&ch))
                .then_some(n)
        }
    }
}
