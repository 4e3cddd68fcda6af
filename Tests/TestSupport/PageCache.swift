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

    /// Whether direct writes on the file system of `folder` stay out of the page cache: a block written
    /// with `O_DIRECT` and not found there afterwards. Where they do not (a file system that refuses
    /// direct I/O and gets the bytes through the page cache by design, or tmpfs, which is the page
    /// cache and takes even unaligned direct writes), there is nothing to check.
    public static func directWritesBypassIt(_ folder: URL) -> Bool {
        let probe = folder.appendingPathComponent("probe-\(UUID().uuidString)").path
        defer { unlink(probe) }
        let fd = DirectIO.openPreferringDirect(probe, O_WRONLY | O_CREAT)
        guard fd >= 0, DirectIO.isDirect(fd) else {
            if fd >= 0 { close(fd) }
            return false
        }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: DirectIO.alignment, alignment: DirectIO.alignment)
        defer { block.deallocate() }
        block.initializeMemory(as: UInt8.self, repeating: 0)
        let written = pwrite(fd, block.baseAddress!, block.count, 0)
        close(fd)
        return written == block.count && residentPages(probe) == 0
    }
}
