import Foundation
import ZIPFoundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An Office Open XML file (XLSX, DOCX): a ZIP archive of XML parts, read with ZIPFoundation.
struct OfficeFile {
    /// The most a part may unpack to: a real thematic list's document is about 1 MB; a ZIP bomb is refused.
    static let maxPartBytes = 256 << 20

    let path: String
    private let archive: Archive

    init(path: String) throws {
        self.path = path
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw ClientError("'\(path)' is not a readable XLSX or DOCX file (it is not a ZIP archive): save it again from the spreadsheet or word processor")
        }
    }

    /// Whether the archive has the part at `name`.
    func has(_ name: String) -> Bool { archive[name] != nil }

    /// The names of the parts under `folder` (e.g. `word/` for a document's headers), sorted.
    func partNames(under folder: String) -> [String] {
        archive.map(\.path).filter { $0.hasPrefix(folder) }.sorted()
    }

    /// The bytes of the part at `name` (e.g. `word/document.xml`).
    func part(_ name: String) throws -> Data {
        guard let entry = archive[name] else {
            throw ClientError("'\(path)' has no part '\(name)': is it an XLSX or DOCX file?")
        }
        guard entry.uncompressedSize <= UInt64(Self.maxPartBytes) else {
            throw ClientError("'\(path)': part '\(name)' unpacks to more than \(Self.maxPartBytes >> 20) MiB; refusing it")
        }
        var data = Data()
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                data.append(chunk)
                if data.count > Self.maxPartBytes { throw ClientError("'\(path)': part '\(name)' is too large") }
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError("'\(path)': part '\(name)' cannot be unpacked (\(error)): save the file again")
        }
        return data
    }
}

/// Walks an XML part, calling back for each element's start and end and its text.
final class XMLWalker: NSObject, XMLParserDelegate {
    private var onStart: (String, [String: String]) -> Void = { _, _ in }
    private var onEnd: (String) -> Void = { _ in }
    private var onText: (String) -> Void = { _ in }

    /// Parses `data`; element names are as written, with their prefix (`w:tc`).
    static func walk(_ data: Data, what: String, start: @escaping (String, [String: String]) -> Void,
                     end: @escaping (String) -> Void = { _ in }, text: @escaping (String) -> Void = { _ in }) throws {
        let walker = XMLWalker()
        walker.onStart = start
        walker.onEnd = end
        walker.onText = text
        let parser = XMLParser(data: data)
        parser.delegate = walker
        parser.shouldResolveExternalEntities = false
        guard parser.parse() else {
            throw ClientError("\(what) is not well-formed XML (\(parser.parserError.map { "\($0)" } ?? "unknown error")): save the file again")
        }
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        onStart(elementName, attributes)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        onEnd(elementName)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        onText(string)
    }
}
