use fileio_core::{File, Stream};
#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a");
    let mut f = File::open(&p, "w+").unwrap();
    f.write(b"hello world").unwrap();
    assert_eq!(&f.read_at(0, 5).unwrap()[..], b"hello");
    std::thread::sleep(std::time::Duration::from_millis(30));
    assert_eq!(&f.read_at(6, 5).unwrap()[..], b"world");
    assert_eq!(&f.read_at(6, 5).unwrap()[..], b"world");
    f.write_at(0, b"HELLO").unwrap();
    assert_eq!(&f.read_at(0, 11).unwrap()[..], b"HELLO world");
    std::fs::write(&p, b"other data!").unwrap();
    assert_eq!(&f.read_at(0, 11).unwrap()[..], b"other data!");
    f.seek(std::io::SeekFrom::Start(0)).unwrap();
    assert_eq!(f.read_line().unwrap().as_deref(), Some("other data!"));
    println!("{:?}", fileio_core::RangeCache::global().stats());
}
