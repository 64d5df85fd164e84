#!/bin/sh
# The interop-runner cases at the sizes of make test (tests/interop/cases.sh quick).
exec sh "$(dirname "$0")/cases.sh" "${1:?usage: $0 BUILD}" quick
