import Shared
import Hummingbird
import GRDB
import Crypto
import Yams
import ArgumentParser
print("x")
