"""Deploy/operate review (2026-12-04; failed before docs/deploy.md stated the limit): template.yaml names functions `${AWS::StackName}-<sync>-poller|worker` and
schedules `${AWS::StackName}-<sync>`; Lambda takes a function name of at most 64 characters and EventBridge Scheduler a
schedule name of at most 64, so a stack name over 48 characters (CloudFormation takes 128; `sam deploy --guided` asks
for any) fails the first deployment half-way (CREATE_FAILED, ROLLBACK_COMPLETE, the retained state table left behind).
Neither the template nor docs/deploy.md says so."""

from __future__ import annotations

import re
from pathlib import Path

from ctns import stack as stack_module

# AWS's limits on the names the template derives from the stack name
LIMITS = {
    ("AWS::Lambda::Function", "FunctionName"): 64,
    ("AWS::Scheduler::Schedule", "Name"): 64,
    ("AWS::Logs::LogGroup", "LogGroupName"): 512,
    ("AWS::KMS::Alias", "AliasName"): 256,
    ("AWS::CloudWatch::Dashboard", "DashboardName"): 255,
    ("AWS::Logs::QueryDefinition", "Name"): 255,
}
CLOUDFORMATION_MAX = 128
DEPLOY_GUIDE = Path(stack_module.TEMPLATE).parent / "docs" / "deploy.md"


def test_every_stack_name_the_deploy_guide_allows_gives_names_aws_accepts() -> None:
    marker = stack_module.STACK_NAME  # what the local expansion gives AWS::StackName
    stack = stack_module.load()
    longest = CLOUDFORMATION_MAX
    binding = ""
    for logical, resource in stack.resources.items():
        for (kind, prop), limit in LIMITS.items():
            value = resource.get("Properties", {}).get(prop) if resource["Type"] == kind else None
            if value is None:
                continue
            name = str(stack.resolve(value))
            if marker in name:
                allowed = limit - (len(name) - len(marker))
                if allowed < longest:
                    longest, binding = allowed, f"{logical}.{prop} ({name.replace(marker, '<stack>')}, at most {limit})"
    stated = re.search(r"stack name[^.]*?(\d+) characters", DEPLOY_GUIDE.read_text())
    assert longest >= CLOUDFORMATION_MAX or (stated and int(stated.group(1)) <= longest), (
        f"a stack name longer than {longest} characters fails to deploy ({binding}); docs/deploy.md states no limit"
    )
