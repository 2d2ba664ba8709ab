"""`ctns config validate FILE` and `ctns config push FILE --name /ctns/config`.

`validate` lists every problem of the document, one line each (a setting and what it is for), and never the
value of a setting that is not one (a secret pasted into the config is not echoed). `push` validates, then
puts the document as written into SSM Parameter Store under the name the stack reads (parameter
ConfigParameterName): of the region named, or, with none named and `ctns serve` running, of the local stack.
"""

from __future__ import annotations

import argparse
import json
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ctns import local
from ctns.inputs import config_problems, parse_config, read_json
from ctns.output import OK, USAGE, CliError, Output
from ctns.target import aws_problem, open_target, region_of
from ctsync.config import SyncConfig
from ctsync.netsuite.auth import rest_base_url, restlets_base_url

DEFAULT_NAME = "/ctns/config"
# SSM Parameter Store's value limits: a Standard parameter (free) takes 4,096 characters, an Advanced one (charged
# per parameter and month) 8,192.
STANDARD_LIMIT = 4096
ADVANCED_LIMIT = 8192


def register(sub: Any) -> None:
    config = sub.add_parser("config", help="validate or push the config document")
    actions = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    validate = actions.add_parser("validate", help="check a config document, setting by setting")
    validate.add_argument("file")
    validate.add_argument("--json", action="store_true", help="one JSON document on stdout")
    validate.add_argument("--debug", action="store_true", help="show the traceback of an error")
    validate.set_defaults(func=cmd_validate)
    push = actions.add_parser("push", help="validate, then put it into SSM Parameter Store")
    push.add_argument("file")
    push.add_argument("--name", default=DEFAULT_NAME, help="SSM parameter name (the stack's ConfigParameterName)")
    push.add_argument(
        "--region",
        help="AWS region of the stack (default: the local stack while `ctns serve` runs; else AWS_REGION, "
        "AWS_DEFAULT_REGION or the profile's)",
    )
    push.add_argument("--profile", help="AWS profile to use (default: AWS_PROFILE)")
    push.add_argument("--json", action="store_true", help="one JSON document on stdout")
    push.add_argument("--debug", action="store_true", help="show the traceback of an error")
    push.set_defaults(func=cmd_push)


def cmd_validate(args: argparse.Namespace, out: Output) -> int:
    document = read_json(args.file, "config file")
    problems = config_problems(document)
    out.document({"file": args.file, "valid": not problems, "problems": problems})
    if problems:
        for problem in problems:  # one line per problem, each naming the file and the setting
            out.problem(f"{args.file}: {problem}")
        return USAGE
    config = parse_config(document, args.file)
    out.line(f"{args.file} is valid for NetSuite account {config.netsuite.account_id}")
    return OK


def cmd_push(args: argparse.Namespace, out: Output) -> int:
    if not args.name.startswith("/"):
        raise CliError(f"--name {args.name!r}: an SSM parameter name the stack reads starts with / (e.g. /ctns/config)")
    document = read_json(args.file, "config file")
    config = parse_config(document, f"config file {args.file}")
    # The document as written, not with every default filled in: a default a later version changes reaches
    # the deployments that never set it.
    value = json.dumps(document, separators=(",", ":"))  # ASCII only (ensure_ascii): a character is a byte
    if len(value) > ADVANCED_LIMIT:
        raise CliError(
            f"config file {args.file} is {len(value):,} characters as pushed; an SSM parameter holds at most "
            f"{ADVANCED_LIMIT:,} (Advanced tier): shorten it (people.overrides, expenses.categories)"
        )
    # As every other command: without a stack named on the command line (here --region or --profile), the local
    # stack while `ctns serve` runs, whatever AWS_REGION says (a shell that exports it must not turn a local
    # walk-through into a push to the real account).
    served = local.running() if not (args.region or args.profile) else None
    name = args.name
    try:
        if served is not None:  # no region named and `ctns serve` running: its stack's parameter
            with open_target(None, progress=out.progress) as target:
                read = target.parameters.get("ConfigParameterName", DEFAULT_NAME)
                if name == DEFAULT_NAME:
                    name = read
                elif name != read:
                    raise CliError(
                        f"--name {name}: the local stack reads its config from {read}, not {name}; leave --name out"
                    )
                assert target.local_state is not None
                _only_simulators(args.file, config, target.local_state.netsuite_url, target.local_state.clicktime_url)
                _put(target.client("ssm"), name, value)
            where = "the local stack (ctns serve)"
        else:
            session = boto3.Session(profile_name=args.profile, region_name=region_of(args.region))
            if not session.region_name:
                raise CliError(
                    "config push needs a region: pass --region (the stack's) or set AWS_REGION "
                    "(or start `ctns serve` to push to the local stack)"
                )
            _put(session.client("ssm"), name, value)
            where = session.region_name
    except (ClientError, BotoCoreError) as error:
        raise aws_problem(error, f"putting SSM parameter {name}") from None
    advanced = " (Advanced tier: 4,096 characters are the Standard tier's most)" if len(value) > STANDARD_LIMIT else ""
    out.line(f"pushed {args.file} to SSM parameter {name} in {where}{advanced}")
    out.document({"file": args.file, "parameter": name, "region": where})
    return OK


def _only_simulators(file: str, config: SyncConfig, netsuite_url: str, clicktime_url: str) -> None:
    """The local stack holds the simulators' credentials and says it touches no real system: a config that sends
    its requests elsewhere (the deploy guide's example has no URLs: NetSuite's and ClickTime's real hosts) is
    refused, naming what to set (before, it was pushed and the next run called the real hosts)."""
    netsuite = config.netsuite
    settings = [  # (setting, its URL in this config, the simulator's)
        (
            "netsuite.rest_base_url",
            netsuite.rest_base_url or rest_base_url(netsuite.account_id),
            f"{netsuite_url}/services/rest",
        ),
        (
            "netsuite.restlets_base_url",
            netsuite.restlets_base_url or restlets_base_url(netsuite.account_id),
            netsuite_url,
        ),
        ("clicktime.base_url", config.clicktime.base_url, f"{clicktime_url}/v2"),
    ]
    elsewhere = [(key, url, local) for key, url, local in settings if _origin(url) != _origin(local)]
    if elsewhere:
        hosts = ", ".join(sorted({_origin(url) for _, url, _ in elsewhere}))
        fixes = "; ".join(f"{key} to {local}" for key, _, local in elsewhere)
        raise CliError(
            f"config file {file} sends the local stack's requests to {hosts}, not to its simulated NetSuite and "
            f"ClickTime: set {fixes}, or name a deployed stack's region with --region"
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _put(ssm: Any, name: str, value: str) -> None:
    """The document into the parameter: in the Advanced tier only when the Standard one cannot hold it (AWS refuses
    a Standard value over 4,096 characters; an Advanced parameter is charged per month). Otherwise no tier is asked
    for, as before: a new parameter is Standard unless the account's default tier says otherwise."""
    tier = {"Tier": "Advanced"} if len(value) > STANDARD_LIMIT else {}
    ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True, **tier)
