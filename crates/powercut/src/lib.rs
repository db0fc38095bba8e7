//! A disk whose power can be cut, for tests: a FUSE filesystem held in
//! memory that keeps what every file and directory would hold after a
//! power cut (see [`model`]) and, on [`Disk::cut`], throws the rest away.
//!
//! ```no_run
//! let mut disk = custody_powercut::Disk::mount(std::path::Path::new("/tmp/m")).unwrap();
//! // ... run a program on /tmp/m, kill it ...
//! let lost = disk.cut().unwrap(); // unmounted, cut, mounted again
//! ```
//!
//! Needs /dev/fuse and the right to mount (root: fuser mounts with
//! mount(2) and needs no fusermount). [`Disk::unavailable`] says why not.

pub mod model;

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, UNIX_EPOCH};

use fuser::{
    AccessFlags, BackgroundSession, Config, Errno, FileAttr, FileHandle, FileType, Filesystem,
    FopenFlags, Generation, INodeNo, LockOwner, MountOption, OpenFlags, RenameFlags, ReplyAttr,
    ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs,
    ReplyWrite, Request, TimeOrNow, WriteFlags,
};

use model::{Body, Ino, Lost, Refusal, Tree};

/// Attributes and entries may be cached this long: every change goes
/// through this mount, and a cut remounts, which drops the kernel's caches.
const TTL: Duration = Duration::from_secs(1);

/// A mounted disk; unmounted when dropped.
pub struct Disk {
    tree: Arc<Mutex<Tree>>,
    at: PathBuf,
    session: Option<BackgroundSession>,
}

impl Disk {
    /// Why a disk cannot be mounted here, if it cannot: no /dev/fuse, or
    /// not allowed to mount.
    pub fn unavailable() -> Option<String> {
        let probe = std::env::temp_dir().join(format!("powercut-probe-{}", std::process::id()));
        if let Err(e) = std::fs::create_dir_all(&probe) {
            return Some(format!("cannot make {}: {e}", probe.display()));
        }
        let result = match Disk::mount(&probe) {
            Ok(disk) => {
                drop(disk);
                None
            }
            Err(e) => Some(format!("cannot mount a FUSE filesystem: {e}")),
        };
        let _ = std::fs::remove_dir(&probe);
        result
    }

    /// Mounts an empty disk at `at` (an existing empty directory).
    pub fn mount(at: &Path) -> io::Result<Disk> {
        let tree = Arc::new(Mutex::new(Tree::new()));
        let session = Some(start(&tree, at)?);
        Ok(Disk {
            tree,
            at: at.to_path_buf(),
            session,
        })
    }

    pub fn path(&self) -> &Path {
        &self.at
    }

    /// sync(2): all that was written so far survives the next cut.
    pub fn sync_all(&self) {
        lock(&self.tree).sync_all();
    }

    /// The power cut and the reboot: unmounts (no process may still hold
    /// a file open), keeps only what was durable, mounts it again.
    pub fn cut(&mut self) -> io::Result<Lost> {
        if let Some(session) = self.session.take() {
            unmount(session, &self.at)?;
        }
        let lost = lock(&self.tree).cut();
        self.session = Some(start(&self.tree, &self.at)?);
        Ok(lost)
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = unmount(session, &self.at);
        }
    }
}

fn start(tree: &Arc<Mutex<Tree>>, at: &Path) -> io::Result<BackgroundSession> {
    let mut config = Config::default();
    config.mount_options = vec![
        MountOption::FSName("powercut".into()),
        MountOption::DefaultPermissions,
    ];
    fuser::spawn_mount(PowerCut { tree: tree.clone() }, at, &config)
}

/// Unmounts, waiting a little for files a killed process held to be
/// released; detaches as a last resort so that a test never hangs.
fn unmount(session: BackgroundSession, at: &Path) -> io::Result<()> {
    let path = std::ffi::CString::new(at.as_os_str().as_encoded_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    for _ in 0..50 {
        // SAFETY: a valid NUL-terminated path.
        if unsafe { libc::umount2(path.as_ptr(), 0) } == 0 {
            return session.join();
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EBUSY) {
            return Err(e);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: as above.
    unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
    session.join()
}

fn lock(tree: &Mutex<Tree>) -> MutexGuard<'_, Tree> {
    // A panic in one request must not hide the disk from the test.
    tree.lock().unwrap_or_else(|e| e.into_inner())
}

struct PowerCut {
    tree: Arc<Mutex<Tree>>,
}

fn errno(r: Refusal) -> Errno {
    match r {
        Refusal::NotFound => Errno::ENOENT,
        Refusal::Exists => Errno::EEXIST,
        Refusal::NotADirectory => Errno::ENOTDIR,
        Refusal::IsADirectory => Errno::EISDIR,
        Refusal::NotEmpty => Errno::ENOTEMPTY,
    }
}

fn attr(tree: &Tree, ino: Ino) -> Option<FileAttr> {
    let node = tree.node(ino)?;
    let (kind, nlink) = match node.body {
        Body::File(_) => (FileType::RegularFile, 1),
        Body::Dir(_) => (FileType::Directory, 2),
    };
    let size = node.size();
    Some(FileAttr {
        ino: INodeNo(ino),
        size,
        blocks: size.div_ceil(512),
        atime: UNIX_EPOCH,
        mtime: UNIX_EPOCH,
        ctime: UNIX_EPOCH,
        crtime: UNIX_EPOCH,
        kind,
        perm: node.perm,
        nlink,
        uid: 0,
        gid: 0,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    })
}

impl PowerCut {
    fn tree(&self) -> MutexGuard<'_, Tree> {
        lock(&self.tree)
    }

    fn reply_entry(&self, found: Result<Ino, Refusal>, reply: ReplyEntry) {
        let tree = self.tree();
        match found.map(|ino| attr(&tree, ino)) {
            Ok(Some(a)) => reply.entry(&TTL, &a, Generation(0)),
            Ok(None) => reply.error(Errno::ENOENT),
            Err(r) => reply.error(errno(r)),
        }
    }

    fn reply_empty(result: Result<(), Refusal>, reply: ReplyEmpty) {
        match result {
            Ok(()) => reply.ok(),
            Err(r) => reply.error(errno(r)),
        }
    }
}

impl Filesystem for PowerCut {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let found = self.tree().lookup(parent.0, name);
        self.reply_entry(found, reply);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match attr(&self.tree(), ino.0) {
            Some(a) => reply.attr(&TTL, &a),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<std::time::SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<std::time::SystemTime>,
        _chgtime: Option<std::time::SystemTime>,
        _bkuptime: Option<std::time::SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut tree = self.tree();
        if let Some(size) = size {
            if let Err(r) = tree.truncate(ino.0, size) {
                return reply.error(errno(r));
            }
        }
        if let (Some(mode), Some(node)) = (mode, tree.node_mut(ino.0)) {
            node.perm = (mode & 0o7777) as u16;
        }
        match attr(&tree, ino.0) {
            Some(a) => reply.attr(&TTL, &a),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let made = self
            .tree()
            .create(parent.0, name, true, (mode & !umask & 0o7777) as u16);
        self.reply_entry(made, reply);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        Self::reply_empty(self.tree().unlink(parent.0, name, false), reply);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        Self::reply_empty(self.tree().unlink(parent.0, name, true), reply);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        if flags.intersects(RenameFlags::RENAME_EXCHANGE | RenameFlags::RENAME_WHITEOUT) {
            return reply.error(Errno::EINVAL);
        }
        let no_replace = flags.contains(RenameFlags::RENAME_NOREPLACE);
        let done = self
            .tree()
            .rename(parent.0, name, newparent.0, newname, no_replace);
        Self::reply_empty(done, reply);
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.tree().node(ino.0) {
            Some(_) => reply.opened(FileHandle(0), FopenFlags::empty()),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.tree().read(ino.0, offset, size) {
            Ok(bytes) => reply.data(bytes),
            Err(r) => reply.error(errno(r)),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        match self.tree().write(ino.0, offset, data) {
            Ok(()) => reply.written(data.len() as u32),
            Err(r) => reply.error(errno(r)),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // close(2) makes nothing durable.
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        Self::reply_empty(self.tree().sync(ino.0), reply);
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let tree = self.tree();
        let entries = match tree.entries(ino.0) {
            Ok(e) => e,
            Err(r) => return reply.error(errno(r)),
        };
        let parent = match tree.node(ino.0).map(|n| &n.body) {
            Some(Body::Dir(d)) => d.parent,
            _ => ino.0,
        };
        let dots = [
            (ino.0, FileType::Directory, OsStr::new(".").to_os_string()),
            (parent, FileType::Directory, OsStr::new("..").to_os_string()),
        ];
        let listed = entries.into_iter().map(|(name, child)| {
            let kind = match tree.node(child).map(|n| &n.body) {
                Some(Body::Dir(_)) => FileType::Directory,
                _ => FileType::RegularFile,
            };
            (child, kind, name)
        });
        for (i, (child, kind, name)) in dots
            .into_iter()
            .chain(listed)
            .enumerate()
            .skip(offset as usize)
        {
            if reply.add(INodeNo(child), i as u64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        // The model syncs a directory's entries as it syncs a file's data.
        self.fsync(req, ino, fh, datasync, reply);
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        // A roomy disk: 64 GiB in 4 KiB blocks, all free.
        let blocks = 16 << 20;
        reply.statfs(blocks, blocks, blocks, 1 << 20, 1 << 20, 4096, 255, 4096);
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: AccessFlags, reply: ReplyEmpty) {
        reply.ok();
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let mut tree = self.tree();
        let made = match tree.lookup(parent.0, name) {
            Ok(_) if flags & libc::O_EXCL != 0 => Err(Refusal::Exists),
            Ok(ino) => Ok(ino),
            Err(_) => tree.create(parent.0, name, false, (mode & !umask & 0o7777) as u16),
        };
        let made = made.and_then(|ino| {
            if flags & libc::O_TRUNC != 0 {
                tree.truncate(ino, 0)?;
            }
            Ok(ino)
        });
        match made.map(|ino| attr(&tree, ino)) {
            Ok(Some(a)) => {
                reply.created(&TTL, &a, Generation(0), FileHandle(0), FopenFlags::empty())
            }
            Ok(None) => reply.error(Errno::ENOENT),
            Err(r) => reply.error(errno(r)),
        }
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        if mode != 0 {
            return reply.error(Errno::EOPNOTSUPP);
        }
        let mut tree = self.tree();
        let size = tree.node(ino.0).map_or(0, |n| n.size());
        let end = offset + length;
        let grown = if end > size {
            tree.truncate(ino.0, end)
        } else {
            Ok(())
        };
        Self::reply_empty(grown, reply);
    }
}
