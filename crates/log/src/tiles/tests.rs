use std::cell::Cell;
use std::collections::BTreeMap;
use std::convert::Infallible;

use proptest::prelude::*;

use super::*;
use crate::merkle::{consistency_proof, inclusion_proof, leaf_hash, root, MemoryTree};

#[test]
fn paths_from_the_spec() {
    let tile = TileId {
        level: 1,
        index: 1234067,
        width: 8,
    };
    assert_eq!(tile.path(), "tile/1/x001/x234/067.p/8");
    assert_eq!(
        TileId::entries_path(1234067, 256),
        "tile/entries/x001/x234/067"
    );
    assert_eq!(
        TileId::entries_path(1234067, 8),
        "tile/entries/x001/x234/067.p/8"
    );
    assert_eq!(
        TileId {
            level: 0,
            index: 5,
            width: 256
        }
        .path(),
        "tile/0/005"
    );
    assert_eq!(
        TileId {
            level: 0,
            index: 0,
            width: 1
        }
        .path(),
        "tile/0/000.p/1"
    );
    assert_eq!(
        TileId {
            level: 2,
            index: 1000,
            width: 256
        }
        .path(),
        "tile/2/x001/000"
    );
    assert_eq!(
        TileId {
            level: 63,
            index: 999,
            width: 255
        }
        .path(),
        "tile/63/999.p/255"
    );
    assert_eq!(
        TileId {
            level: 0,
            index: u64::MAX,
            width: 256
        }
        .path(),
        "tile/0/x018/x446/x744/x073/x709/x551/615"
    );
}

#[test]
fn parse_inverts_path() {
    for path in [
        "tile/1/x001/x234/067.p/8",
        "tile/0/005",
        "tile/63/x018/x446/x744/x073/x709/x551/615",
    ] {
        assert_eq!(TileId::parse(path).unwrap().path(), path);
    }
    let bundle = TileId::parse_entries("tile/entries/x001/x234/067.p/8").unwrap();
    assert_eq!(
        bundle,
        TileId {
            level: 0,
            index: 1234067,
            width: 8
        }
    );
}

#[test]
fn malformed_paths_are_rejected() {
    let bad = [
        "",
        "tile/",
        "tile/0",
        "tile/0/",
        "tile/0/5",
        "tile/0/05",
        "tile/0/0005",
        "tile/0/x005",
        "tile/0/x000/005",
        "tile/0/001/005",
        "tile/0/x1/005",
        "tile/0/x0001/005",
        "tile/0/005/",
        "/tile/0/005",
        "tile//005",
        "tile/00/005",
        "tile/01/005",
        "tile/64/005",
        "tile/-1/005",
        "tile/+1/005",
        "tile/0/-05",
        "tile/0/+05",
        "tile/0/abc",
        "tile/0/005.p/",
        "tile/0/005.p/0",
        "tile/0/005.p/08",
        "tile/0/005.p/256",
        "tile/0/005.p/8/",
        "tile/0/005.p/8.p/9",
        "tile/0/005.q/8",
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        "tile/0/x001/x018/x446/x744/x073/x709/x551/615",
        "tile/entries/005",
        "tile/data/005",
        "tile/0/005 ",
    ];
    for path in bad {
        assert_eq!(
            TileId::parse(path),
            Err(TileError::MalformedPath(path.into())),
            "{path:?}"
        );
    }
    for path in [
        "tile/0/005",
        "tile/entries/5",
        "tile/entries/005.p/0",
        "tile/entries/",
        "tile/entries/x000/005",
    ] {
        assert!(TileId::parse_entries(path).is_err(), "{path:?}");
    }
}

proptest! {
    #[test]
    fn path_round_trip(level in 0u8..=63, index: u64, width in 1u16..=256) {
        let tile = TileId { level, index, width };
        prop_assert_eq!(TileId::parse(&tile.path()), Ok(tile));
        let bundle = TileId { level: 0, ..tile };
        prop_assert_eq!(TileId::parse_entries(&TileId::entries_path(index, width)), Ok(bundle));
    }
}

#[test]
fn tiles_of_the_spec_examples() {
    let tiles = tiles_for_size(70_000);
    let full = |level, index| TileId {
        level,
        index,
        width: 256,
    };
    let mut want: Vec<TileId> = (0..273).map(|i| full(0, i)).collect();
    want.push(TileId {
        level: 0,
        index: 273,
        width: 112,
    });
    want.push(full(1, 0));
    want.push(TileId {
        level: 1,
        index: 1,
        width: 17,
    });
    want.push(TileId {
        level: 2,
        index: 0,
        width: 1,
    });
    assert_eq!(tiles, want);

    assert_eq!(
        tiles_for_size(256),
        vec![
            full(0, 0),
            TileId {
                level: 1,
                index: 0,
                width: 1
            }
        ]
    );
    assert_eq!(tiles_for_size(0), vec![]);
    assert_eq!(
        tiles_for_size(1),
        vec![TileId {
            level: 0,
            index: 0,
            width: 1
        }]
    );
    let tiles = tiles_for_size(1 << 24);
    assert_eq!(tiles.len(), 65536 + 256 + 1 + 1);
    assert_eq!(
        tiles.last(),
        Some(&TileId {
            level: 3,
            index: 0,
            width: 1
        })
    );
}

#[test]
fn tiles_serialize_as_concatenated_hashes() {
    let hashes: Vec<Hash> = (0..3u8).map(|i| [i; 32]).collect();
    let bytes = encode_tile(&hashes);
    assert_eq!(bytes.len(), 96);
    assert_eq!(decode_tile(&bytes).unwrap(), hashes);
    assert_eq!(decode_tile(&bytes[..95]), Err(TileError::MalformedTile(95)));
    assert_eq!(decode_tile(&[]), Err(TileError::MalformedTile(0)));
    assert_eq!(
        decode_tile(&[0; 257 * 32]),
        Err(TileError::MalformedTile(257 * 32))
    );
    assert_eq!(decode_tile(&[0; 256 * 32]).unwrap().len(), 256);
}

#[test]
fn bundles_round_trip() {
    let long = vec![7u8; 65535];
    let entries: Vec<&[u8]> = vec![b"hello", b"", &long, b"x"];
    let bundle = encode_bundle(&entries).unwrap();
    assert_eq!(&bundle[..7], b"\x00\x05hello");
    assert_eq!(&bundle[7..11], b"\x00\x00\xff\xff");
    assert_eq!(decode_bundle(&bundle).unwrap(), entries);
    assert_eq!(decode_bundle(&[]).unwrap(), Vec::<&[u8]>::new());
}

#[test]
fn malformed_bundles_are_rejected() {
    let too_long = vec![0u8; 65536];
    assert_eq!(
        encode_bundle(&[&too_long]),
        Err(TileError::EntryTooLong(65536))
    );
    let many = vec![&b"a"[..]; 257];
    assert_eq!(encode_bundle(&many), Err(TileError::TooManyEntries(257)));
    let just_enough = encode_bundle(&many[..256]).unwrap();
    assert_eq!(decode_bundle(&just_enough).unwrap().len(), 256);
    let mut overlong = just_enough.clone();
    overlong.extend_from_slice(b"\x00\x00");
    assert_eq!(
        decode_bundle(&overlong),
        Err(TileError::TooManyEntries(257))
    );

    let bundle = encode_bundle(&[b"hello", b"world"]).unwrap();
    for cut in 1..bundle.len() {
        if cut == 7 {
            continue; // between the two entries
        }
        assert_eq!(
            decode_bundle(&bundle[..cut]),
            Err(TileError::TruncatedBundle),
            "cut at {cut}"
        );
    }
    assert_eq!(decode_bundle(b"\x00"), Err(TileError::TruncatedBundle));
    assert_eq!(
        decode_bundle(b"\xff\xff abc"),
        Err(TileError::TruncatedBundle)
    );
}

/// Stored tiles, as the engine would keep them: the latest version of each.
type Store = BTreeMap<(u8, u64), (u16, Vec<Hash>)>;

fn store(store: &mut Store, dirty: Vec<(TileId, Vec<Hash>)>) {
    for (id, hashes) in dirty {
        assert_eq!(hashes.len(), usize::from(id.width), "{id:?}");
        if let Some((width, _)) = store.get(&(id.level, id.index)) {
            assert!(
                *width < id.width,
                "{id:?} was stored again after width {width}"
            );
        }
        store.insert((id.level, id.index), (id.width, hashes));
    }
}

fn leaves(n: u64) -> impl Iterator<Item = Hash> {
    (0..n).map(|i| leaf_hash(&i.to_le_bytes()))
}

/// Grows a log to `size`, storing dirty tiles every `batch` leaves, and checks
/// the tiles against the tree.
fn grow(size: u64, batch: u64) -> (Store, MemoryTree, TileWriter) {
    let mut writer = TileWriter::new();
    let mut tree = MemoryTree::new();
    let mut tiles = Store::new();
    for leaf in leaves(size) {
        writer.push(leaf);
        tree.push(leaf);
        if writer.size() % batch == 0 {
            store(&mut tiles, writer.take_dirty());
        }
    }
    store(&mut tiles, writer.take_dirty());
    assert_eq!(writer.size(), size);
    assert!(
        writer.take_dirty().is_empty(),
        "nothing changed since the last call"
    );
    (tiles, tree, writer)
}

fn check_tiles(tiles: &Store, tree: &MemoryTree) {
    let size = tree.size();
    let stored: Vec<TileId> = tiles
        .iter()
        .map(|(&(level, index), (width, _))| TileId {
            level,
            index,
            width: *width,
        })
        .collect();
    let mut want = tiles_for_size(size);
    want.sort();
    assert_eq!(stored, want, "size {size}");
    for (&(level, index), (_, hashes)) in tiles {
        for (i, hash) in (0..).zip(hashes) {
            let want = tree.subtree(level * 8, index * 256 + i).unwrap();
            assert_eq!(*hash, want, "tile {level}/{index} hash {i}");
        }
    }
}

fn tile_source(
    tiles: &Store,
) -> TileHashes<impl Fn(u8, u64) -> Result<Vec<Hash>, TileMissing> + '_> {
    TileHashes::new(move |level, index| {
        tiles
            .get(&(level, index))
            .map(|(_, hashes)| hashes.clone())
            .ok_or(TileMissing { level, index })
    })
}

#[derive(Debug, Error)]
#[error("no tile {level}/{index}")]
struct TileMissing {
    level: u8,
    index: u64,
}

#[test]
fn writer_matches_the_tree_around_tile_boundaries() {
    let (tiles, tree, writer) = grow(65536 + 300, 97);
    check_tiles(&tiles, &tree);
    assert_eq!(writer.root(), tree.root());

    // Roots at every size near a boundary, from one writer.
    let mut writer = TileWriter::new();
    let boundaries = [256u64, 512, 65536];
    for (size, leaf) in (1u64..).zip(leaves(65536 + 300)) {
        writer.push(leaf);
        if boundaries.iter().any(|b| size.abs_diff(*b) <= 3) || size <= 300 {
            assert_eq!(writer.root(), root(&tree, size).unwrap(), "size {size}");
        }
    }
    assert_eq!(TileWriter::new().root(), EMPTY_ROOT);
}

#[test]
fn taking_filled_tiles_early_stores_the_same_tiles() {
    // Full tiles handed over every 1,000 leaves, everything else every 70,000:
    // the same tiles as taking all at once, none stored twice (see `store`).
    let size = 65536 * 2 + 300;
    let mut writer = TileWriter::new();
    let mut tree = MemoryTree::new();
    let mut tiles = Store::new();
    for leaf in leaves(size) {
        writer.push(leaf);
        tree.push(leaf);
        if writer.size() % 1000 == 0 {
            let filled = writer.take_filled();
            assert!(filled.iter().all(|(id, h)| id.is_full() && h.len() == 256));
            store(&mut tiles, filled);
        }
        if writer.size() % 70_000 == 0 {
            store(&mut tiles, writer.take_dirty());
        }
    }
    store(&mut tiles, writer.take_dirty());
    check_tiles(&tiles, &tree);
    let (all_at_once, _, _) = grow(size, size);
    assert_eq!(tiles, all_at_once);
}

#[test]
fn tile_proofs_match_the_tree() {
    let (tiles, tree, _) = grow(70_000, 1000);
    let src = tile_source(&tiles);
    let size = tree.size();
    for index in [0, 1, 255, 256, 257, 65535, 65536, 69_999, 12_345] {
        assert_eq!(
            inclusion_proof(&src, index, size).unwrap(),
            inclusion_proof(&tree, index, size).unwrap()
        );
    }
    // Proofs for older tree sizes need only complete subtrees, all still stored.
    for (size1, size2) in [
        (1, 70_000),
        (256, 70_000),
        (65536, 70_000),
        (300, 65536),
        (69_999, 70_000),
    ] {
        assert_eq!(
            consistency_proof(&src, size1, size2).unwrap(),
            consistency_proof(&tree, size1, size2).unwrap()
        );
        assert_eq!(root(&src, size1).unwrap(), root(&tree, size1).unwrap());
    }
}

#[test]
fn tile_source_reports_missing_and_short_tiles() {
    let (mut tiles, _, _) = grow(300, 300);
    let src = tile_source(&tiles);
    assert!(matches!(
        src.subtree(8, 1),
        Err(TileReadError::ShortTile {
            level: 1,
            index: 0,
            have: 1,
            need: 2
        })
    ));
    assert!(matches!(
        src.subtree(0, 512),
        Err(TileReadError::Fetch {
            level: 0,
            index: 2,
            ..
        })
    ));
    assert!(matches!(
        src.subtree(7, u64::MAX),
        Err(TileReadError::OutOfRange { .. })
    ));
    assert!(matches!(
        inclusion_proof(&src, 0, 301),
        Err(crate::merkle::ProofGenError::Source(_))
    ));
    drop(src);
    tiles.clear();
    assert!(tile_source(&tiles).subtree(0, 0).is_err());
}

#[test]
fn tile_source_reads_each_tile_once() {
    // Tiles of a 10M-leaf log, made up: the reads are what is counted.
    let size = 10_000_000u64;
    let fetches = Cell::new(0);
    let src = TileHashes::new(|level, index| {
        fetches.set(fetches.get() + 1);
        Ok::<_, Infallible>(
            (0..256u64)
                .map(|i| leaf_hash(&[level, index as u8, i as u8]))
                .collect(),
        )
    });
    let proof = inclusion_proof(&src, 1_234_567, size).unwrap();
    assert_eq!(proof.len(), 24);
    // One tile per level along the path, and the partial tiles of the right edge.
    assert!(fetches.get() <= 6, "{} tile reads", fetches.get());
    let before = fetches.get();
    inclusion_proof(&src, 1_234_568, size).unwrap();
    assert_eq!(
        fetches.get(),
        before,
        "a neighbour's proof reads no new tile"
    );
}

#[test]
fn resume_continues_the_same_tiles() {
    let (tiles, tree, _) = grow(70_000, 1000);
    for size in [0u64, 1, 255, 256, 257, 512, 65535, 65536, 65537, 69_999] {
        let (mut resumed_tiles, _, _) = grow(size, 1);
        let last = |level: u8| {
            let (_, (_, hashes)) = resumed_tiles
                .range((level, 0)..(level + 1, 0))
                .next_back()
                .unwrap();
            hashes.clone()
        };
        let levels = (0..8).take_while(|&l| (size >> (8 * l)) > 0).count() as u8;
        let mut writer = TileWriter::resume(size, (0..levels).map(last).collect()).unwrap();
        assert_eq!(
            writer.root(),
            root(&tree, size).unwrap(),
            "resumed at {size}"
        );
        for leaf in leaves(70_000).skip(size as usize) {
            writer.push(leaf);
        }
        store(&mut resumed_tiles, writer.take_dirty());
        assert_eq!(resumed_tiles, tiles, "resumed at {size}");
        assert_eq!(writer.root(), tree.root());
    }
}

#[test]
fn resume_rejects_tiles_that_do_not_fit_the_size() {
    let tile = |n: usize| vec![[0u8; 32]; n];
    assert!(TileWriter::resume(0, vec![]).is_ok());
    assert!(TileWriter::resume(5, vec![tile(5)]).is_ok());
    assert!(TileWriter::resume(256, vec![tile(256), tile(1)]).is_ok());
    assert!(TileWriter::resume(257, vec![tile(1), tile(1)]).is_ok());
    let cases = [
        (
            0,
            vec![tile(1)],
            TileError::WrongLevelCount {
                size: 0,
                got: 1,
                want: 0,
            },
        ),
        (
            5,
            vec![],
            TileError::WrongLevelCount {
                size: 5,
                got: 0,
                want: 1,
            },
        ),
        (
            5,
            vec![tile(4)],
            TileError::WrongTileWidth {
                size: 5,
                level: 0,
                got: 4,
                want: 5,
            },
        ),
        (
            256,
            vec![tile(256)],
            TileError::WrongLevelCount {
                size: 256,
                got: 1,
                want: 2,
            },
        ),
        (
            256,
            vec![tile(0), tile(1)],
            TileError::WrongTileWidth {
                size: 256,
                level: 0,
                got: 0,
                want: 256,
            },
        ),
        (
            513,
            vec![tile(1), tile(1)],
            TileError::WrongTileWidth {
                size: 513,
                level: 1,
                got: 1,
                want: 2,
            },
        ),
    ];
    for (size, last, want) in cases {
        assert_eq!(TileWriter::resume(size, last).unwrap_err(), want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn writer_matches_the_tree(size in 0u64..70_000, batch in 1u64..5000, picks: [u64; 4]) {
        let (tiles, tree, writer) = grow(size, batch);
        check_tiles(&tiles, &tree);
        prop_assert_eq!(writer.root(), tree.root());
        if size > 0 {
            let src = tile_source(&tiles);
            let index = picks[0] % size;
            let size2 = 1 + index + picks[1] % (size - index);
            let size1 = 1 + picks[2] % size2;
            prop_assert_eq!(inclusion_proof(&src, index, size2).unwrap(), inclusion_proof(&tree, index, size2).unwrap());
            prop_assert_eq!(consistency_proof(&src, size1, size2).unwrap(), consistency_proof(&tree, size1, size2).unwrap());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A full tile pushed by its hash makes the tree its leaves make: the
    /// root after every push, wherever the whole tiles fall among single
    /// leaves, and across levels (65,536 leaves fill a level-1 tile).
    #[test]
    fn a_tile_pushed_whole_is_its_leaves(plan in proptest::collection::vec(0u8..3, 1..300)) {
        let mut by_leaf = TileWriter::new();
        let mut by_tile = TileWriter::new();
        let mut next = leaves(u64::MAX);
        for step in plan {
            // 0: one leaf; else a whole tile where one may go, or its leaves.
            let n = if step == 0 || by_leaf.size() % TILE_WIDTH != 0 { 1 } else { TILE_WIDTH };
            let tile: Vec<Hash> = (&mut next).take(n as usize).collect();
            for leaf in &tile {
                by_leaf.push(*leaf);
            }
            match tile.len() {
                1 => by_tile.push(tile[0]),
                _ => by_tile.push_tile(hash_up(&tile)),
            }
            prop_assert_eq!(by_tile.size(), by_leaf.size());
            prop_assert_eq!(by_tile.root(), by_leaf.root());
        }
    }
}

#[test]
fn a_whole_tile_fills_level_one() {
    let mut by_leaf = TileWriter::new();
    let mut by_tile = TileWriter::new();
    let all: Vec<Hash> = leaves(256 * 257).collect();
    for tile in all.chunks(256) {
        tile.iter().for_each(|l| by_leaf.push(*l));
        by_tile.push_tile(hash_up(tile));
        assert_eq!(by_tile.root(), by_leaf.root());
    }
    by_tile.push(all[0]);
    by_leaf.push(all[0]);
    assert_eq!(by_tile.root(), by_leaf.root());
}

#[test]
#[should_panic(expected = "tile boundary")]
fn a_tile_is_pushed_whole_only_at_a_boundary() {
    let mut w = TileWriter::new();
    w.push(leaves(1).next().unwrap());
    w.push_tile([0; 32]);
}
