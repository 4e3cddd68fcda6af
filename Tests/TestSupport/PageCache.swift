import DiskIO
import Foundation

/// What the kernel's page cache holds of a file, for the tests of evidence written past it (`DirectIO`).
public enum PageCache {
    /// How many pages of the file at `path` are in the page cache (`mincore` of a mapping of it); nil
    /// when it cannot be mapped.
    public static func residentPages(_ path: String) -> Int? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return nil }
        let length = Int(info.st_size)
        guard let mapped = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), mapped != MAP_FAILED else { return nil }
        defer { munmap(mapped, length) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var resident = [UInt8](repeating: 0, count: (length + page - 1) / page)
        guard mincore(mapped, length, &resident) == 0 else { return nil }
        return resident.filter { $0 & 1 != 0 }.count
    }

    /// Whether the file system of `folder` opens files for direct I/O (where it does not, the bytes go
    /// through the page cache by design, and there is nothing to check).
    public static func takesDirectIO(_ folder: URL) -> Bool {
        let probe = folder.appendingPathComponent("probe-\(UUID().uuidString)").path
        let fd = DirectIO.openDirect(probe, O_WRONLY | O_CREAT)
        defer { unlink(probe) }
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }
}
