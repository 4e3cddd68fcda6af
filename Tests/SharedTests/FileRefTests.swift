import Foundation
import Testing
@testable import Shared

@Suite struct FileRefTests {
    @Test func namesAreCutToTheirLastComponentAndCleaned() {
        #expect(FileRef.sanitizedName("/home/aigerim/photos/IMG_0042.jpg") == "IMG_0042.jpg")
        #expect(FileRef.sanitizedName("C:\\Users\\a\\scan.pdf") == "scan.pdf")
        #expect(FileRef.sanitizedName("../../etc/passwd") == "passwd")
        #expect(FileRef.sanitizedName("..") == "file")
        #expect(FileRef.sanitizedName("") == "file")
        #expect(FileRef.sanitizedName("a\u{0}b\nc\u{7F}") == "a_b_c_")
        // U+202E would show `gnp.exe` as `exe.png`.
        #expect(FileRef.sanitizedName("photo\u{202E}gnp.exe") == "photo_gnp.exe")
        #expect(FileRef.sanitizedName("Показания свидетеля.m4a") == "Показания свидетеля.m4a")
        let long = String(repeating: "ж", count: 300) + ".jpg"
        #expect(FileRef.sanitizedName(long).utf8.count <= FileRef.maxNameBytes)
        // Decomposed and composed spellings store alike.
        #expect(FileRef.sanitizedName("Cafe\u{301}.txt") == FileRef.sanitizedName("Caf\u{E9}.txt"))
    }

    @Test func aSanitisedNameIsItsOwnSanitisedForm() {
        for name in ["/tmp/x", "..", "a\u{202E}b", String(repeating: "é", count: 200), " spaced ", "x\\y"] {
            let once = FileRef.sanitizedName(name)
            #expect(FileRef.sanitizedName(once) == once)
            #expect(FileRef(sha256: Fixture.file.sha256, name: once, size: 1, mime: "image/jpeg").problem == nil)
        }
    }

    @Test func theSchemaRefusesReferencesAStoreCouldNotTrust() throws {
        let schema = Schema.upr
        func problem(_ file: FileRef) -> String? {
            do {
                try schema.validate(.files([file]), collection: "incidents", field: "evidence")
                return nil
            } catch { return error.message }
        }
        #expect(problem(Fixture.file) == nil)
        var bad = Fixture.file
        bad.sha256 = Fixture.file.sha256.uppercased()
        #expect(problem(bad)?.contains("64 lower-case hex") == true)
        bad = Fixture.file
        bad.name = "../secret"
        #expect(problem(bad)?.contains("plain file name") == true)
        bad = Fixture.file
        bad.size = -1
        #expect(problem(bad)?.contains("size") == true)
        bad = Fixture.file
        bad.mime = "text"
        #expect(problem(bad)?.contains("type/subtype") == true)
        #expect(throws: SchemaError.self) { try schema.validate(.files([Fixture.file, Fixture.file]), collection: "incidents", field: "evidence") }
        #expect(throws: SchemaError.self) { try schema.validate(.list(["a"]), collection: "incidents", field: "evidence") }
        #expect(throws: SchemaError.self) { try schema.validate(.files([Fixture.file]), collection: "incidents", field: "title") }
        #expect(throws: SchemaError.self) { try schema.parse("x.jpg", collection: "sources", field: "files") }
    }
}
