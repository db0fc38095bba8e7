//! What a disk holds across a power cut, without any I/O: every file's bytes
//! and every directory's entries twice, as the running system sees them
//! (`live`) and as they would survive a cut (`durable`).
//!
//! The model is the strict reading of POSIX that careful storage code is
//! written against: a file's data and size become durable when the file is
//! fsynced (fsync and fdatasync alike), a directory's entries (a create,
//! unlink, rename or mkdir in it) when the directory itself is fsynced.
//! Nothing else is ever made durable on its own, and a cut keeps exactly
//! the durable state. Not modelled: torn writes within a page (a synced
//! page is whole, an unsynced one is gone whole), reordering between two
//! fsyncs (nothing unsynced survives at all, which is the harshest case for
//! a commit but not for a journal's write order), metadata other than size
//! and entries (modes and times are kept as they are).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::{OsStr, OsString};

/// Bytes are tracked for syncing in pages of this size.
const PAGE: u64 = 4096;

/// An inode number; the root is 1.
pub type Ino = u64;

pub const ROOT: Ino = 1;

/// Why an operation cannot be done, as the errno the kernel is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotFound,
    Exists,
    NotADirectory,
    IsADirectory,
    NotEmpty,
}

#[derive(Debug, Clone)]
pub struct File {
    pub live: Vec<u8>,
    durable: Vec<u8>,
    /// Pages written (or cut off by a truncate) since the last fsync.
    dirty: BTreeSet<u64>,
}

#[derive(Debug, Clone)]
pub struct Dir {
    pub live: BTreeMap<OsString, Ino>,
    durable: BTreeMap<OsString, Ino>,
    pub parent: Ino,
}

#[derive(Debug, Clone)]
pub enum Body {
    File(File),
    Dir(Dir),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub body: Body,
    pub perm: u16,
}

impl Node {
    pub fn size(&self) -> u64 {
        match &self.body {
            Body::File(f) => f.live.len() as u64,
            Body::Dir(d) => d.live.len() as u64,
        }
    }
}

/// What a cut threw away.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Lost {
    /// Pages written and never fsynced, summed over the files that survive.
    pub pages: u64,
    /// Live entries of surviving directories that were not durable.
    pub entries: u64,
}

#[derive(Debug, Clone)]
pub struct Tree {
    nodes: HashMap<Ino, Node>,
    next: Ino,
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

impl Tree {
    pub fn new() -> Tree {
        let root = Node {
            body: Body::Dir(Dir {
                live: BTreeMap::new(),
                durable: BTreeMap::new(),
                parent: ROOT,
            }),
            perm: 0o755,
        };
        Tree {
            nodes: HashMap::from([(ROOT, root)]),
            next: ROOT + 1,
        }
    }

    pub fn node(&self, ino: Ino) -> Option<&Node> {
        self.nodes.get(&ino)
    }

    pub fn node_mut(&mut self, ino: Ino) -> Option<&mut Node> {
        self.nodes.get_mut(&ino)
    }

    fn dir(&self, ino: Ino) -> Result<&Dir, Refusal> {
        match self.nodes.get(&ino).map(|n| &n.body) {
            Some(Body::Dir(d)) => Ok(d),
            Some(Body::File(_)) => Err(Refusal::NotADirectory),
            None => Err(Refusal::NotFound),
        }
    }

    fn dir_mut(&mut self, ino: Ino) -> Result<&mut Dir, Refusal> {
        match self.nodes.get_mut(&ino).map(|n| &mut n.body) {
            Some(Body::Dir(d)) => Ok(d),
            Some(Body::File(_)) => Err(Refusal::NotADirectory),
            None => Err(Refusal::NotFound),
        }
    }

    fn file_mut(&mut self, ino: Ino) -> Result<&mut File, Refusal> {
        match self.nodes.get_mut(&ino).map(|n| &mut n.body) {
            Some(Body::File(f)) => Ok(f),
            Some(Body::Dir(_)) => Err(Refusal::IsADirectory),
            None => Err(Refusal::NotFound),
        }
    }

    pub fn lookup(&self, parent: Ino, name: &OsStr) -> Result<Ino, Refusal> {
        self.dir(parent)?
            .live
            .get(name)
            .copied()
            .ok_or(Refusal::NotFound)
    }

    /// A directory's live entries, in name order.
    pub fn entries(&self, dir: Ino) -> Result<Vec<(OsString, Ino)>, Refusal> {
        Ok(self
            .dir(dir)?
            .live
            .iter()
            .map(|(n, i)| (n.clone(), *i))
            .collect())
    }

    /// A new empty file or directory named `name` in `parent`.
    pub fn create(
        &mut self,
        parent: Ino,
        name: &OsStr,
        directory: bool,
        perm: u16,
    ) -> Result<Ino, Refusal> {
        if self.dir(parent)?.live.contains_key(name) {
            return Err(Refusal::Exists);
        }
        let ino = self.next;
        self.next += 1;
        let body = if directory {
            Body::Dir(Dir {
                live: BTreeMap::new(),
                durable: BTreeMap::new(),
                parent,
            })
        } else {
            Body::File(File {
                live: Vec::new(),
                durable: Vec::new(),
                dirty: BTreeSet::new(),
            })
        };
        self.nodes.insert(ino, Node { body, perm });
        self.dir_mut(parent)?.live.insert(name.to_os_string(), ino);
        Ok(ino)
    }

    pub fn read(&self, ino: Ino, offset: u64, size: u32) -> Result<&[u8], Refusal> {
        match self.nodes.get(&ino).map(|n| &n.body) {
            Some(Body::File(f)) => {
                let start = (offset as usize).min(f.live.len());
                let end = start.saturating_add(size as usize).min(f.live.len());
                Ok(&f.live[start..end])
            }
            Some(Body::Dir(_)) => Err(Refusal::IsADirectory),
            None => Err(Refusal::NotFound),
        }
    }

    pub fn write(&mut self, ino: Ino, offset: u64, data: &[u8]) -> Result<(), Refusal> {
        let f = self.file_mut(ino)?;
        let (start, end) = (offset as usize, offset as usize + data.len());
        if f.live.len() < end {
            f.live.resize(end, 0);
        }
        f.live[start..end].copy_from_slice(data);
        if !data.is_empty() {
            f.dirty.extend(offset / PAGE..=(end as u64 - 1) / PAGE);
        }
        Ok(())
    }

    pub fn truncate(&mut self, ino: Ino, size: u64) -> Result<(), Refusal> {
        let f = self.file_mut(ino)?;
        let old = f.live.len() as u64;
        let (low, high) = (old.min(size), old.max(size));
        if low < high {
            // Pages the cut-off (or zero-filled) range touches change too.
            f.dirty.extend(low / PAGE..=(high - 1) / PAGE);
        }
        f.live.resize(size as usize, 0);
        Ok(())
    }

    /// Removes the entry; the node goes when nothing durable or live names it.
    pub fn unlink(&mut self, parent: Ino, name: &OsStr, directory: bool) -> Result<(), Refusal> {
        let ino = self.lookup(parent, name)?;
        match (&self.nodes[&ino].body, directory) {
            (Body::Dir(d), true) if !d.live.is_empty() => return Err(Refusal::NotEmpty),
            (Body::Dir(_), false) => return Err(Refusal::IsADirectory),
            (Body::File(_), true) => return Err(Refusal::NotADirectory),
            _ => {}
        }
        self.dir_mut(parent)?.live.remove(name);
        Ok(())
    }

    /// rename(2) without flags: replaces a file, or an empty directory.
    pub fn rename(
        &mut self,
        parent: Ino,
        name: &OsStr,
        new_parent: Ino,
        new_name: &OsStr,
        no_replace: bool,
    ) -> Result<(), Refusal> {
        let ino = self.lookup(parent, name)?;
        self.dir(new_parent)?;
        if let Ok(old) = self.lookup(new_parent, new_name) {
            if no_replace {
                return Err(Refusal::Exists);
            }
            if let Body::Dir(d) = &self.nodes[&old].body {
                if !d.live.is_empty() {
                    return Err(Refusal::NotEmpty);
                }
            }
        }
        self.dir_mut(parent)?.live.remove(name);
        self.dir_mut(new_parent)?
            .live
            .insert(new_name.to_os_string(), ino);
        if let Some(Body::Dir(d)) = self.nodes.get_mut(&ino).map(|n| &mut n.body) {
            d.parent = new_parent;
        }
        Ok(())
    }

    /// fsync or fdatasync on a file, or fsync on a directory.
    pub fn sync(&mut self, ino: Ino) -> Result<(), Refusal> {
        match self.nodes.get_mut(&ino).map(|n| &mut n.body) {
            Some(Body::File(f)) => {
                f.durable.resize(f.live.len(), 0);
                for page in std::mem::take(&mut f.dirty) {
                    let start = (page * PAGE) as usize;
                    let end = (start + PAGE as usize).min(f.live.len());
                    if start < end {
                        f.durable[start..end].copy_from_slice(&f.live[start..end]);
                    }
                }
                Ok(())
            }
            Some(Body::Dir(d)) => {
                d.durable = d.live.clone();
                Ok(())
            }
            None => Err(Refusal::NotFound),
        }
    }

    /// sync(2): everything live becomes durable.
    pub fn sync_all(&mut self) {
        let all: Vec<Ino> = self.nodes.keys().copied().collect();
        for ino in all {
            let _ = self.sync(ino);
        }
    }

    /// The power cut: everything not durable is gone, and so is every node
    /// that no durable entry reaches from the root.
    pub fn cut(&mut self) -> Lost {
        let mut lost = Lost::default();
        let mut reached = BTreeSet::from([ROOT]);
        let mut todo = vec![ROOT];
        while let Some(ino) = todo.pop() {
            let Some(node) = self.nodes.get_mut(&ino) else {
                continue;
            };
            match &mut node.body {
                Body::File(f) => {
                    lost.pages += f.dirty.len() as u64;
                    f.dirty.clear();
                    f.live = f.durable.clone();
                }
                Body::Dir(d) => {
                    lost.entries += d
                        .live
                        .iter()
                        .filter(|(n, i)| d.durable.get(*n) != Some(i))
                        .count() as u64;
                    d.live = d.durable.clone();
                    for &child in d.live.values() {
                        if reached.insert(child) {
                            todo.push(child);
                        }
                    }
                }
            }
        }
        self.nodes.retain(|ino, _| reached.contains(ino));
        // A directory's parent is the one whose durable entry reached it.
        let parents: Vec<(Ino, Ino)> = self
            .nodes
            .iter()
            .filter_map(|(&ino, n)| match &n.body {
                Body::Dir(d) => Some(d.live.values().map(move |&c| (c, ino))),
                Body::File(_) => None,
            })
            .flatten()
            .collect();
        for (child, parent) in parents {
            if let Some(Body::Dir(d)) = self.nodes.get_mut(&child).map(|n| &mut n.body) {
                d.parent = parent;
            }
        }
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    /// A file `f` in the root holding "durable" (all synced, entry too).
    fn with_synced_file() -> (Tree, Ino) {
        let mut t = Tree::new();
        let f = t.create(ROOT, name("f"), false, 0o600).unwrap();
        t.write(f, 0, b"durable").unwrap();
        t.sync(f).unwrap();
        t.sync(ROOT).unwrap();
        (t, f)
    }

    fn content(t: &Tree, path: &str) -> Option<Vec<u8>> {
        let ino = t.lookup(ROOT, name(path)).ok()?;
        Some(t.read(ino, 0, u32::MAX).unwrap().to_vec())
    }

    #[test]
    fn what_survives_a_cut() {
        type Step = fn(&mut Tree, Ino);
        /// What a file holds after the cut, if it is there.
        type Held = Option<&'static [u8]>;
        // (what happens after the synced file, what `f` and `g` hold after the cut)
        let cases: &[(&str, Step, Held, Held)] = &[
            ("nothing", |_, _| {}, Some(b"durable"), None),
            (
                "an unsynced overwrite is lost",
                |t, f| t.write(f, 0, b"DURABLE").unwrap(),
                Some(b"durable"),
                None,
            ),
            (
                "a synced overwrite is kept",
                |t, f| {
                    t.write(f, 0, b"DURABLE").unwrap();
                    t.sync(f).unwrap()
                },
                Some(b"DURABLE"),
                None,
            ),
            (
                "an unsynced append is lost, a synced one kept",
                |t, f| {
                    t.write(f, 7, b"+1").unwrap();
                    t.sync(f).unwrap();
                    t.write(f, 9, b"+2").unwrap()
                },
                Some(b"durable+1"),
                None,
            ),
            (
                "an unsynced truncate is undone",
                |t, f| t.truncate(f, 3).unwrap(),
                Some(b"durable"),
                None,
            ),
            (
                "a synced truncate then an unsynced regrow",
                |t, f| {
                    t.truncate(f, 3).unwrap();
                    t.sync(f).unwrap();
                    t.truncate(f, 7).unwrap()
                },
                Some(b"dur"),
                None,
            ),
            (
                "a synced file in an unsynced directory entry is lost",
                |t, _| {
                    let g = t.create(ROOT, name("g"), false, 0o600).unwrap();
                    t.write(g, 0, b"new").unwrap();
                    t.sync(g).unwrap()
                },
                Some(b"durable"),
                None,
            ),
            (
                "an entry synced before its data leaves an empty file",
                |t, _| {
                    let g = t.create(ROOT, name("g"), false, 0o600).unwrap();
                    t.sync(ROOT).unwrap();
                    t.write(g, 0, b"new").unwrap()
                },
                Some(b"durable"),
                Some(b""),
            ),
            (
                "an unsynced rename is undone",
                |t, _| t.rename(ROOT, name("f"), ROOT, name("g"), false).unwrap(),
                Some(b"durable"),
                None,
            ),
            (
                "a synced rename moves the file",
                |t, _| {
                    t.rename(ROOT, name("f"), ROOT, name("g"), false).unwrap();
                    t.sync(ROOT).unwrap()
                },
                None,
                Some(b"durable"),
            ),
            (
                "an unsynced unlink is undone",
                |t, _| t.unlink(ROOT, name("f"), false).unwrap(),
                Some(b"durable"),
                None,
            ),
        ];
        for (what, step, f, g) in cases {
            let (mut t, ino) = with_synced_file();
            step(&mut t, ino);
            t.cut();
            assert_eq!(content(&t, "f").as_deref(), *f, "{what}: f");
            assert_eq!(content(&t, "g").as_deref(), *g, "{what}: g");
        }
    }

    #[test]
    fn a_cut_counts_what_it_lost_and_drops_unreachable_nodes() {
        let (mut t, f) = with_synced_file();
        t.write(f, 0, &[1; 3 * PAGE as usize]).unwrap();
        let d = t.create(ROOT, name("d"), true, 0o700).unwrap();
        let inner = t.create(d, name("x"), false, 0o600).unwrap();
        t.sync(d).unwrap();
        let lost = t.cut();
        assert_eq!(
            lost,
            Lost {
                pages: 3,
                entries: 1
            }
        );
        assert!(t.node(d).is_none() && t.node(inner).is_none());
        assert_eq!(t.lookup(ROOT, name("d")), Err(Refusal::NotFound));
    }

    #[test]
    fn directories_refuse_what_posix_refuses() {
        let mut t = Tree::new();
        let d = t.create(ROOT, name("d"), true, 0o700).unwrap();
        t.create(d, name("x"), false, 0o600).unwrap();
        t.create(ROOT, name("e"), true, 0o700).unwrap();
        assert_eq!(
            t.create(ROOT, name("d"), false, 0o600),
            Err(Refusal::Exists)
        );
        assert_eq!(t.unlink(ROOT, name("d"), true), Err(Refusal::NotEmpty));
        assert_eq!(t.unlink(ROOT, name("d"), false), Err(Refusal::IsADirectory));
        assert_eq!(
            t.rename(ROOT, name("e"), ROOT, name("d"), false),
            Err(Refusal::NotEmpty)
        );
        assert_eq!(
            t.rename(d, name("x"), ROOT, name("e"), true),
            Err(Refusal::Exists)
        );
    }
}
