import Shared
import GRDB
import ArgumentParser
print("x")
