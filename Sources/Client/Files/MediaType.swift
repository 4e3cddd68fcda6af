import Foundation
import Shared

/// The media type of an attached file, from its name's extension: the kinds of evidence researchers
/// collect (photos, scans, audio, video, documents). Anything else is `application/octet-stream`.
enum MediaType {
    static func of(name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return FileRef.unknownMime }
        return known[name[name.index(after: dot)...].lowercased()] ?? FileRef.unknownMime
    }

    private static let known: [String: String] = [
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
        "heic": "image/heic", "heif": "image/heif", "tif": "image/tiff", "tiff": "image/tiff", "bmp": "image/bmp",
        "svg": "image/svg+xml", "dng": "image/x-adobe-dng",
        "mp3": "audio/mpeg", "m4a": "audio/mp4", "aac": "audio/aac", "wav": "audio/wav", "ogg": "audio/ogg",
        "oga": "audio/ogg", "opus": "audio/opus", "flac": "audio/flac", "amr": "audio/amr", "3ga": "audio/3gpp",
        "mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime", "webm": "video/webm", "mkv": "video/x-matroska",
        "avi": "video/x-msvideo", "3gp": "video/3gpp",
        "pdf": "application/pdf", "txt": "text/plain", "md": "text/markdown", "csv": "text/csv", "html": "text/html",
        "htm": "text/html", "json": "application/json", "xml": "application/xml", "rtf": "application/rtf",
        "doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
        "zip": "application/zip", "7z": "application/x-7z-compressed", "tar": "application/x-tar", "gz": "application/gzip",
        "eml": "message/rfc822",
    ]
}
