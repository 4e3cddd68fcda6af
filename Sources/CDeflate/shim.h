// zlib (apt: zlib1g-dev): the deflate stream inside a bundle (docs/protocol.md, "Bundles").
#include <zlib.h>
