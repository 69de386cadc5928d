"""schemathesis hooks for imgpipe's run: test/api/schemathesis.test.ts names this file in SCHEMATHESIS_HOOKS.

A multipart form field generated as an empty list is sent as no part at all, so the request on the wire is not the
case schemathesis judges. As negative data ("nfeatures ... was integer, became array", seed 63738414 on POST
/v1/match) it reaches the API as a request that leaves the field out, which the API rightly accepts: schemathesis
then reports "schema-violating request accepted". Such negative cases are dropped; every other case runs.
"""

import schemathesis
from schemathesis import GenerationMode


@schemathesis.hook
def filter_case(context, case):
    if case.media_type != "multipart/form-data" or not isinstance(case.body, dict):
        return True
    if case.meta is None or case.meta.generation.mode != GenerationMode.NEGATIVE:
        return True
    return not any(isinstance(value, list) and len(value) == 0 for value in case.body.values())
