//! The kernel's process table: a pid comes in; what `/proc/PID/{stat,task,fd}` says about
//! it goes out (its parent, group, state and start time, its children and descendants, the
//! inodes of its sockets).
//!
//! Used both to stop programs (`cleanup`, `drive::process`) and to explain readiness failures
//! (`drive::ready`), so it depends on neither. Processes vanish while they are read: every
//! function treats a process that is gone as absent, never as an error.

use std::collections::{BTreeSet, HashMap, HashSet};

/// One process as `/proc/PID/stat` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: u32,
    pub ppid: u32,
    pub pgrp: i32,
    /// Single-letter state; `Z` is a zombie waiting to be reaped.
    pub state: char,
    /// Clock ticks after boot; with the pid it names a process even if the pid is reused.
    pub start_time: u64,
}

impl ProcStat {
    pub fn is_zombie(&self) -> bool {
        self.state == 'Z'
    }
}

/// Reads `/proc/PID/stat`, or `None` once the process is gone.
pub fn stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &text)
}

/// The command name sits in parentheses and may itself hold spaces or `)`, so fields are
/// counted from the last `)`.
fn parse_stat(pid: u32, text: &str) -> Option<ProcStat> {
    let after = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    Some(ProcStat {
        pid,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        pgrp: fields.get(2)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// Every process visible in `/proc` right now.
pub fn processes() -> Vec<ProcStat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(stat)
        .collect()
}

/// The pids of all descendants of `pid` (children, their children, ...), not `pid` itself.
pub fn descendants(pid: u32) -> Vec<u32> {
    descendants_in(&processes(), pid)
        .into_iter()
        .map(|p| p.pid)
        .collect()
}

/// Descendants of `root` within an already-read process table.
pub fn descendants_in(table: &[ProcStat], root: u32) -> Vec<ProcStat> {
    let mut children: HashMap<u32, Vec<&ProcStat>> = HashMap::new();
    for p in table {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut found = Vec::new();
    let mut seen = HashSet::from([root]);
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        for child in children.get(&parent).into_iter().flatten() {
            // A table read while processes come and go could in theory show a cycle.
            if seen.insert(child.pid) {
                found.push(**child);
                queue.push(child.pid);
            }
        }
    }
    found
}

/// Whether the process exists, ignoring zombies (they hold a pid but run nothing).
pub fn is_alive(pid: u32) -> bool {
    stat(pid).is_some_and(|p| !p.is_zombie())
}

/// The direct children of every thread of `pid`, from `/proc/PID/task/*/children`; `None`
/// when the kernel does not provide those files.
pub fn children_of(pid: u32) -> Option<Vec<u32>> {
    let mut children = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("children");
        let text = std::fs::read_to_string(path).ok()?;
        children.extend(
            text.split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok()),
        );
    }
    Some(children)
}

/// Inodes of the sockets among `/proc/PID/fd/*`, whose links read `socket:[INODE]`.
pub fn socket_inodes(pid: u32) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read_link(entry.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

/// Every descendant of `pid` found by following `/proc/PID/task/*/children`, which is far
/// cheaper than reading every process on the machine; falls back to that when the kernel does
/// not provide those files. At most `limit` pids, so a fork bomb cannot keep the walk going.
pub fn family(pid: u32, limit: usize) -> Vec<u32> {
    let mut found = Vec::new();
    let mut queue = vec![pid];
    while let Some(parent) = queue.pop() {
        let Some(children) = children_of(parent) else {
            // Without children files, or the process went away: a full walk still answers.
            return descendants(pid).into_iter().take(limit).collect();
        };
        for child in children {
            if found.len() >= limit {
                return found;
            }
            if !found.contains(&child) {
                found.push(child);
                queue.push(child);
            }
        }
    }
    found
}

/// The command line of `pid`, arguments separated by spaces; its name when the command line
/// is empty (kernel threads, zombies); `None` once it is gone.
pub fn command_line(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let words: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|w| !w.is_empty())
        // Control characters (a newline in `python3 -c '...'`) would break a message line.
        .map(|w| String::from_utf8_lossy(w).replace(char::is_control, " "))
        .collect();
    if words.is_empty() {
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        return Some(name.trim_end().to_string());
    }
    Some(words.join(" "))
}

/// The processes whose descriptors include one of the sockets `inodes`, with their command
/// lines, sorted by pid. Processes of other users cannot be read and are not found.
pub fn owners_of(inodes: &BTreeSet<u64>) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut owners: Vec<(u32, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| socket_inodes(pid).iter().any(|i| inodes.contains(i)))
        .filter_map(|pid| Some((pid, command_line(pid)?)))
        .collect();
    owners.sort();
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parses_command_names_with_spaces_and_parens() {
        let text = "42 (a b) c) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 9999 0 0";
        let p = parse_stat(42, text).expect("parses");
        assert_eq!((p.ppid, p.pgrp, p.state, p.start_time), (7, 42, 'S', 9999));
    }

    #[test]
    fn descendants_follow_parent_chains() {
        let proc = |pid, ppid| ProcStat {
            pid,
            ppid,
            pgrp: 1,
            state: 'S',
            start_time: 0,
        };
        let table = [
            proc(10, 1),
            proc(11, 10),
            proc(12, 11),
            proc(13, 1),
            proc(14, 12),
        ];
        let mut got: Vec<u32> = descendants_in(&table, 10).iter().map(|p| p.pid).collect();
        got.sort();
        assert_eq!(got, vec![11, 12, 14]);
    }

    #[test]
    fn descendants_of_self_include_a_spawned_child() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let found = descendants(std::process::id()).contains(&child.id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(found);
    }

    #[test]
    fn family_of_self_includes_a_spawned_child() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let found = family(std::process::id(), 1000).contains(&child.id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(found);
    }

    #[test]
    fn owners_of_a_listener_include_this_process() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let own = std::process::id();
        let inodes: BTreeSet<u64> = socket_inodes(own).into_iter().collect();
        let owners = owners_of(&inodes);
        drop(listener);
        assert!(owners.iter().any(|(pid, _)| *pid == own), "{owners:?}");
    }

    #[test]
    fn command_line_of_a_missing_process_is_none() {
        assert_eq!(command_line(u32::MAX), None);
    }
}
