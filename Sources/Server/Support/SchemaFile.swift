import Foundation
import Shared
import Yams

/// Loads a project schema: `upr` for the built-in one, or a JSON or YAML file.
enum SchemaFile {
    static func load(_ nameOrPath: String) throws -> Schema {
        if nameOrPath == "upr" { return Schema.upr }
        let url = URL(fileURLWithPath: nameOrPath)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CommandError("cannot read schema file '\(nameOrPath)': give 'upr' or the path of a JSON or YAML schema")
        }
        let isJSON = url.pathExtension.lowercased() == "json"
            || data.first(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) == UInt8(ascii: "{")
        if isJSON {
            do {
                return try Schema.fromJSON(data)
            } catch let error as SchemaError {
                throw CommandError("\(nameOrPath): \(error.message)")
            }
        }
        do {
            let schema = try YAMLDecoder().decode(Schema.self, from: data)
            try schema.check()
            return schema
        } catch let error as DecodingError {
            throw CommandError("\(nameOrPath): the schema is not valid: \(DecodingErrorText.describe(error))")
        } catch let error as SchemaError {
            throw CommandError("\(nameOrPath): \(error.message)")
        } catch {
            throw CommandError("\(nameOrPath): the file is neither valid JSON nor YAML (\(error))")
        }
    }
}

/// A failure of a command, with a message that says what to do.
struct CommandError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
