#!/bin/sh
# arch_long.sh: arch_e2e.sh with every unit test program on every target
# (make check-long builds them all and names them in ARCH_TESTS).
exec sh "$(dirname "$0")/arch_e2e.sh"
