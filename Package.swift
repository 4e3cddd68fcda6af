// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "casebook",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "casebook-server", targets: ["Server"]),
        .executable(name: "casebook", targets: ["Client"]),
        .executable(name: "casebook-bench", targets: ["Bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // Pure sync core: clock, ids, changes, merge rule, schema, wire types. Foundation,
        // swift-crypto for the digest that signatures and the log's hash chain are built on, and
        // zlib for the deflate stream inside a bundle.
        .target(name: "Shared", dependencies: [.product(name: "Crypto", package: "swift-crypto"), "CDeflate"],
                resources: [.embedInCode("Resources/upr-schema.json")]),
        // zlib (apt: zlib1g-dev): bundles are compressed before they are sealed.
        .systemLibrary(name: "CDeflate", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Binding parameters straight to SQLite for the statements a sync runs once per change.
        .target(name: "SQLiteSupport", dependencies: ["Shared", "CSQLiteTuning", .product(name: "GRDB", package: "GRDB.swift")]),
        // `sqlite3_config` is variadic, so Swift cannot call it: a few lines of C do.
        .target(name: "CSQLiteTuning", linkerSettings: [.linkedLibrary("sqlite3")]),
        // `prctl` is variadic too: the key agent's hardening (non-dumpable, no ptrace) is two C functions.
        .target(name: "CProcess"),
        // Evidence files written and read past the page cache (`O_DIRECT`), by the server's file folder and the replica's file store.
        .target(name: "DiskIO", dependencies: ["CProcess"]),
        // libsodium (apt: libsodium-dev): the replica's page cipher, key wrapping and passphrase KDF.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        // The encrypted replica's storage: a SQLite VFS that seals each page (docs/security.md).
        .target(name: "CCipherVFS", dependencies: ["CSodium"], linkerSettings: [.linkedLibrary("sqlite3"), .linkedLibrary("sodium")]),
        .executableTarget(
            name: "Server",
            dependencies: [
                "Shared",
                "SQLiteSupport",
                // Starting an uploaded chunk's writeback early (`sync_file_range`).
                "CProcess",
                "DiskIO",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // The thread pool that evidence files are read and written on.
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "Client",
            dependencies: [
                "Shared",
                "SQLiteSupport",
                "CCipherVFS",
                "CSodium",
                "CProcess",
                "DiskIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        // The benchmark: runs the real programs and compares them with raw SQLite (docs/performance.md);
        // times the text merge on the narrative texts and edits the tests use (TestSupport).
        .executableTarget(
            name: "Bench",
            dependencies: [
                "Shared",
                "SQLiteSupport",
                "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SharedTests",
            dependencies: [
                "Shared",
                "TestSupport",
                "Yams",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        // What the server and end-to-end tests need: the store kinds, PostgreSQL databases made for a test, random
        // multi-replica histories for the differential tests, and narrative texts with the edits researchers make.
        .target(name: "TestSupport", dependencies: ["Shared", "DiskIO"], path: "Tests/TestSupport"),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server",
                "TestSupport",
                "Shared",
                "DiskIO",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "ClientTests",
            dependencies: ["Client", "Shared", "TestSupport", "DiskIO", "CSodium", .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "NIOCore", package: "swift-nio")]
        ),
        // Starts the built programs and drives them as a user would: depending on the executables
        // makes `swift build --build-tests` build the binaries these tests run.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "Client",
                "Server",
                "Bench",
                "Shared",
                "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
