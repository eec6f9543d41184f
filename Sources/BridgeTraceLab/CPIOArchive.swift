import Foundation

/// A cpio archive in the "newc" format (magic 070701), the one the Linux kernel unpacks as an
/// initramfs. Only what a guest initramfs needs: directories, regular files, symlinks and
/// character devices, all owned by root, with mtime 0 so the same inputs give the same bytes.
struct CPIOArchive {
    private(set) var data = Data()
    private var nextInode: UInt32 = 1

    mutating func directory(_ path: String, mode: UInt32 = 0o755) {
        append(path, mode: 0o040000 | mode, nlink: 2, contents: Data())
    }

    mutating func file(_ path: String, contents: Data, mode: UInt32 = 0o644) {
        append(path, mode: 0o100000 | mode, contents: contents)
    }

    mutating func symlink(_ path: String, target: String) {
        append(path, mode: 0o120000 | 0o777, contents: Data(target.utf8))
    }

    mutating func characterDevice(_ path: String, major: UInt32, minor: UInt32, mode: UInt32 = 0o600) {
        append(path, mode: 0o020000 | mode, contents: Data(), rdev: (major, minor))
    }

    /// The archive with its trailer; call once, after the last entry.
    func finished() -> Data {
        var copy = self
        copy.append("TRAILER!!!", mode: 0, nlink: 1, contents: Data(), inode: 0)
        return copy.data
    }

    private mutating func append(
        _ path: String, mode: UInt32, nlink: UInt32 = 1, contents: Data, rdev: (UInt32, UInt32) = (0, 0),
        inode: UInt32? = nil
    ) {
        let name = path.hasPrefix("/") ? String(path.dropFirst()) : path
        let ino = inode ?? nextInode
        if inode == nil { nextInode += 1 }
        let fields: [UInt32] = [
            ino, mode, 0, 0, nlink, 0, UInt32(contents.count), 0, 0, rdev.0, rdev.1,
            UInt32(name.utf8.count + 1), 0,
        ]
        var header = "070701"
        for field in fields {
            let hex = String(field, radix: 16)
            header += String(repeating: "0", count: 8 - hex.count) + hex
        }
        data.append(Data(header.utf8))
        data.append(Data(name.utf8))
        data.append(0)
        pad()
        data.append(contents)
        pad()
    }

    /// Header+name and file data each end on a 4-byte boundary.
    private mutating func pad() {
        let extra = (4 - data.count % 4) % 4
        data.append(Data(repeating: 0, count: extra))
    }
}
