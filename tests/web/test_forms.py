"""Bad input in every form: the error is next to its field, what was typed is kept (never
a secret), and nothing is created."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from batchforge.services import credentials, pipeline_secrets
from batchforge.services.pipeline_secrets import Owner
from tests.factories import fake_keys
from tests.web.conftest import UiServer
from tests.web.ui import Visits, add_credentials, field_error, nav, sign_in


def test_field_errors_sit_next_to_their_fields_and_keep_what_was_typed(
    page: Page, ui: UiServer
) -> None:
    visits = Visits()
    sign_in(page, ui.token)
    keys = fake_keys()

    page.goto("/ui/credentials")
    form = page.locator("form[action='/ui/credentials']")
    form.get_by_label("Name", exact=True).fill("lab aws")
    form.get_by_label("Access key ID").fill(keys.access_key)
    form.get_by_label("Secret access key").fill(keys.secret_key)
    form.get_by_role("button", name="Add and validate").click()
    expect(field_error(page, "name")).to_contain_text("letters, digits")
    expect(page.get_by_role("alert")).to_be_focused()  # the error summary
    expect(page.get_by_label("Name", exact=True)).to_have_value("lab aws")
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Access key ID")).to_have_value(keys.access_key)
    expect(page.get_by_label("Secret access key")).to_have_value("")
    visits.shot(page, "30-credentials-field-error")
    assert credentials.list_all(ui.ctx, 1) == []

    page.get_by_label("Name", exact=True).fill("lab-aws")
    page.get_by_label("Access key ID").fill("not-a-key")
    page.get_by_label("Secret access key").fill(keys.secret_key)
    page.get_by_role("button", name="Add and validate").click()
    expect(field_error(page, "accessKey")).to_contain_text("AWS access key id")
    expect(page.get_by_label("Name", exact=True)).to_have_value("lab-aws")
    visits.keep(page, "credentials-access-key-error")

    add_credentials(page, "lab-aws", keys)
    nav(page, "Compute")
    page.get_by_role("link", name="New compute environment").click()
    form = page.locator("#ce-form")
    form.get_by_label("Name", exact=True).fill("bad-env")
    form.get_by_label("Work directory").fill("s3://no-such-bucket-here/work")
    form.get_by_label("Minimum CPUs").fill("8")
    form.get_by_label("Maximum CPUs").fill("4")
    form.get_by_label("Nextflow config").fill("process.cpus = 2\n")
    form.get_by_role("button", name="Check configuration").click()
    expect(field_error(page, "minCpus")).to_contain_text("must not exceed maxCpus (4)")
    expect(page.get_by_label("Minimum CPUs")).to_have_value("8")
    expect(page.get_by_label("Maximum CPUs")).to_have_value("4")
    expect(page.get_by_label("Nextflow config")).to_have_value("process.cpus = 2\n")
    page.get_by_label("Maximum CPUs").fill("16")
    page.get_by_role("button", name="Check configuration").click()
    expect(field_error(page, "workDir")).to_contain_text("does not exist")
    expect(page.get_by_label("Work directory")).to_have_value("s3://no-such-bucket-here/work")
    expect(page.get_by_label("Name", exact=True)).to_have_value("bad-env")
    visits.shot(page, "31-compute-env-field-error")

    page.goto("/ui/launch")
    form = page.locator("form[action='/ui/launch']")
    form.get_by_label("Pipeline repository").fill("nextflow-io/hello")
    params = '{\n  "input": "s3://bucket/samples.csv",\n  "outdir": \n}'
    form.get_by_label("Parameters").fill(params)
    form.get_by_role("button", name="Launch", exact=True).click()
    expect(field_error(page, "computeEnvId")).to_contain_text("compute environment is required")
    expect(page.get_by_label("Parameters")).to_have_value(params)
    expect(page.get_by_label("Pipeline repository")).to_have_value("nextflow-io/hello")

    nav(page, "Secrets")
    form = page.locator("form[action='/ui/secrets']")
    form.get_by_label("Name", exact=True).fill("9lives")
    form.get_by_label("Value", exact=True).fill("hunter2-value")
    form.get_by_role("button", name="Add secret").click()
    expect(field_error(page, "name")).to_contain_text("not a valid secret name")
    expect(page.get_by_label("Name", exact=True)).to_have_value("9lives")
    expect(page.get_by_label("Value", exact=True)).to_have_value("")
    visits.shot(page, "32-secret-field-error")
    assert pipeline_secrets.list_secrets(ui.ctx, Owner(workspace_id=1)) == []
    assert visits.containing(keys.secret_key, "hunter2-value") == []


def test_params_errors_name_the_line_and_column(page: Page, ui: UiServer) -> None:
    sign_in(page, ui.token)
    page.goto("/ui/launch")
    form = page.locator("form[action='/ui/launch']")
    form.get_by_label("Pipeline repository").fill("nextflow-io/hello")
    form.get_by_label("Parameters").fill('{\n  "a": 1,\n  "b": \n}')
    form.get_by_role("button", name="Check parameters").click()
    expect(page.locator("#params-status")).to_contain_text("invalid JSON at line 4, column 1")
    form.get_by_label("Parameters").fill("a: 1\nb: [1, 2\n")
    form.get_by_role("button", name="Check parameters").click()
    expect(page.locator("#params-status")).to_contain_text("invalid YAML at line")
    expect(form.get_by_label("Parameters")).to_be_focused()  # the caret sits on the error


def test_the_policy_tool_points_at_line_and_column(page: Page, ui: UiServer) -> None:
    sign_in(page, ui.token)
    nav(page, "Policy check")
    policy = (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Effect": "Allow"\n'
        '      "Action": "batch:*",\n      "Resource": "*"\n    }\n  ]\n}'
    )
    page.get_by_label("Policy document").fill(policy)
    page.get_by_role("button", name="Check policy").click()
    expect(page.get_by_role("status").filter(has_text="Unreadable")).to_be_visible()
    finding = page.get_by_role("link", name="line 6, column 7")
    expect(finding).to_be_visible()
    expect(page.get_by_label("Policy document")).to_have_value(policy)
    finding.click()
    expect(page.get_by_label("Policy document")).to_be_focused()
    Visits().shot(page, "33-policy-syntax-error")

    fixed = policy.replace('"Allow"\n', '"Allow",\n')
    page.get_by_label("Policy document").fill(fixed)
    page.get_by_label("Compute environment mode").select_option("manual")
    page.get_by_label("data-explorer").check()
    page.get_by_role("button", name="Check policy").click()
    expect(page.get_by_role("status").filter(has_text="required permission")).to_be_visible()
    expect(page.get_by_role("cell", name="s3:GetBucketLocation").first).to_be_visible()
    expect(page.get_by_label("data-explorer")).to_be_checked()
    Visits().shot(page, "34-policy-findings")


def test_forms_work_without_the_script(browser: Browser, ui: UiServer) -> None:
    """Progressive enhancement: with JavaScript off, the compute environment form still loads
    the drop-downs of another region (a GET of the whole form, keeping what was typed)."""
    context = browser.new_context(base_url=ui.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, ui.token)
        add_credentials(page, "no-script", fake_keys())
        page.goto("/ui/compute-envs/new")
        form = page.locator("#ce-form")
        form.get_by_label("Name", exact=True).fill("typed-name")
        form.get_by_label("Region").select_option("us-west-2")
        form.get_by_role("button", name="Load AWS resources").click()
        expect(page.get_by_label("Name", exact=True)).to_have_value("typed-name")
        expect(page.get_by_label("Region")).to_have_value("us-west-2")
        expect(page.get_by_label("VPC")).to_contain_text("(default)")
        expect(page.get_by_label("Subnets")).to_contain_text("us-west-2a")
    finally:
        context.close()
