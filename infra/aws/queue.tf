# The work queue (docs/design.md, "Continuation"): a scheduled run that ends with work left queues a
# continuation of that registry here, and POST /prune queues an on-demand run here (202 and a status
# URL). An event source mapping delivers each message to the same function, with its full timeout.
# A message whose registry's lock is held is sent again by the worker, invisible for 15 minutes; one
# whose run failed is reported as a batch item failure and comes back after the visibility timeout;
# after max_receive_count deliveries it is parked in the dead-letter queue.

locals {
  # Lambda requires the source queue's visibility timeout to be at least the function timeout; a
  # minute more covers the runtime's start and the report.
  runs_visibility_timeout_seconds = var.timeout_seconds + 60
  # Deliveries of a failing run before its message is parked (a held lock is no failure).
  runs_max_receive_count = 20
}

resource "aws_sqs_queue" "runs_dlq" {
  name                      = "${var.name}-runs-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "runs" {
  name                       = "${var.name}-runs"
  visibility_timeout_seconds = local.runs_visibility_timeout_seconds
  message_retention_seconds  = 345600
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.runs_dlq.arn
    maxReceiveCount     = local.runs_max_receive_count
  })
  tags = var.tags
}

# One message per invocation, so a lock-held message fails alone; at most two workers at once (the
# mapping's minimum), which with reserved concurrency 3 leaves one for the schedule and the URL.
resource "aws_lambda_event_source_mapping" "runs" {
  event_source_arn        = aws_sqs_queue.runs.arn
  function_name           = aws_lambda_function.regprune.arn
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = 2
  }

  depends_on = [aws_iam_role_policy.queue]
}

# The mapping polls as the function's role; the function itself sends continuations and async runs.
data "aws_iam_policy_document" "queue" {
  statement {
    sid       = "ReceiveWork"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.runs.arn]
  }

  statement {
    sid       = "SendWork"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.runs.arn]
  }
}

resource "aws_iam_role_policy" "queue" {
  name   = "${var.name}-queue"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.queue.json
}

resource "aws_cloudwatch_metric_alarm" "parked_runs" {
  alarm_name          = "${var.name}-parked-runs"
  alarm_description   = "A continuation or on-demand run failed ${local.runs_max_receive_count} times and waits in ${aws_sqs_queue.runs_dlq.name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.runs_dlq.name }
  statistic           = "Maximum"
  period              = 300
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions
  comparison_operator = local.alarm_common.comparison_operator
  threshold           = local.alarm_common.threshold
  evaluation_periods  = local.alarm_common.evaluation_periods
  treat_missing_data  = local.alarm_common.treat_missing_data
  tags                = var.tags
}
