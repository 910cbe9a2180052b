# regprune on AWS: one Lambda function run by EventBridge Scheduler and on demand through an
# IAM-authenticated function URL. One function (not one per trigger) so that reserved concurrency
# 1 keeps a manual run from ever overlapping a scheduled one.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id          = data.aws_caller_identity.current.account_id
  registry_account_id = coalesce(var.registry_account_id, local.account_id)
  registry_region     = coalesce(var.registry_region, data.aws_region.current.region)
  ecr_arn_prefix      = "arn:${data.aws_partition.current.partition}:ecr:${local.registry_region}:${local.registry_account_id}:repository"
  # Only the configured repositories: images are read, indexes fetched and deletions made there.
  ecr_repository_arns = [for pattern in var.repositories : "${local.ecr_arn_prefix}/${pattern}"]
  bundle_dir          = coalesce(var.bundle_dir, "${path.module}/../../dist/aws")
}

data "archive_file" "bundle" {
  type        = "zip"
  source_dir  = local.bundle_dir
  output_path = "${path.module}/.build/${var.name}.zip"
}

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "regprune" {
  function_name    = var.name
  description      = "Prunes ECR repositories: keeps the newest and pinned images, deletes the rest"
  role             = aws_iam_role.function.arn
  runtime          = "nodejs22.x"
  architectures    = ["arm64"]
  handler          = "main.handler"
  filename         = data.archive_file.bundle.output_path
  source_code_hash = data.archive_file.bundle.output_base64sha256
  timeout          = var.timeout_seconds
  memory_size      = var.memory_mb

  # The run lock keeps one run per registry (overlapping runs would plan against each other's
  # half-done deletions); 3 = two queue workers (queue.tf) and one for the schedule and the URL,
  # so POST /prune answers 202 while a worker runs.
  reserved_concurrent_executions = 3

  environment {
    variables = {
      # No --enable-source-maps: it doubled the bundle's import time in bench/aws-bundle.ts.
      REGPRUNE_CONFIG       = var.config
      REGPRUNE_STATE_BUCKET = aws_s3_bucket.state.id
      REGPRUNE_QUEUE_URL    = aws_sqs_queue.runs.url
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.function, aws_cloudwatch_log_group.function]
}

# A failed scheduled run is not retried by Lambda: the next scheduled run converges. An event that
# fails, or waits out its hour throttled behind a manual run (reserved concurrency 1), lands in the
# dead-letter queue instead of vanishing; an alarm watches the queue.
resource "aws_lambda_function_event_invoke_config" "regprune" {
  function_name                = aws_lambda_function.regprune.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 3600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.schedule_dlq.arn
    }
  }
  depends_on = [aws_iam_role_policy.function]
}

# Scheduled runs that failed: EventBridge Scheduler could not deliver them (dead_letter_config), or
# Lambda gave up on them (on_failure destination). Encrypted, kept for SQS's maximum of 14 days.
resource "aws_sqs_queue" "schedule_dlq" {
  name                      = "${var.name}-schedule-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_lambda_function_url" "regprune" {
  function_name      = aws_lambda_function.regprune.function_name
  authorization_type = "AWS_IAM"
  invoke_mode        = "BUFFERED"
}

# Function URLs created since October 2025 need both actions granted to their callers.
resource "aws_lambda_permission" "url_invokers" {
  for_each               = toset(var.url_invoker_arns)
  statement_id           = "InvokeUrl-${substr(sha256(each.value), 0, 16)}"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.regprune.function_name
  principal              = each.value
  function_url_auth_type = "AWS_IAM"
}

# lambda:InvokedViaFunctionUrl: the grant holds only through the URL, not for a direct Invoke.
resource "aws_lambda_permission" "url_invokers_invoke" {
  for_each                 = toset(var.url_invoker_arns)
  statement_id             = "Invoke-${substr(sha256(each.value), 0, 16)}"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.regprune.function_name
  principal                = each.value
  invoked_via_function_url = true
}

resource "aws_scheduler_schedule" "regprune" {
  name                         = var.name
  description                  = "Scheduled regprune run"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.regprune.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode(var.schedule_input)

    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 3600
    }

    dead_letter_config {
      arn = aws_sqs_queue.schedule_dlq.arn
    }
  }
}
