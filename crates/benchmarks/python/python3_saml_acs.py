"""The python3-saml side of `idhub-bench-acs` (P2): strict validations per second of one
Response, in a loop, on whatever CPUs this process may use (the benchmark pins it with
`taskset -c 0`).

Usage: python python3_saml_acs.py SETTINGS.json RESPONSE.b64
Then, for each line "SECONDS" read on stdin, it validates in a loop for that long and
prints one JSON line {"validations": N, "seconds": S}; it ends at end of input. (The
benchmark alternates slices of both sides, so a change of machine load hits both.)
"""

import json
import sys
import time

from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings


def main():
    settings_path, response_path = sys.argv[1], sys.argv[2]
    with open(settings_path) as f:
        conf = json.load(f)
    with open(response_path) as f:
        saml_response = f.read().strip()
    request_data = conf.pop("request_data")
    settings = OneLogin_Saml2_Settings(conf, sp_validation_only=True)

    def validate():
        # parse + strict validation (signature, conditions, audience, destination, recipient, times)
        OneLogin_Saml2_Response(settings, saml_response).is_valid(request_data, raise_exceptions=True)

    validate()  # refuses loudly if the settings do not fit the Response
    warm = time.perf_counter()
    while time.perf_counter() - warm < 1.0:
        validate()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        seconds = float(line)
        n, start = 0, time.perf_counter()
        while True:
            validate()
            n += 1
            if n % 16 == 0 and time.perf_counter() - start >= seconds:
                break
        print(json.dumps({"validations": n, "seconds": time.perf_counter() - start}), flush=True)


if __name__ == "__main__":
    main()
