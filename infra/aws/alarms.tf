# Alarms on what a nightly job hides: a run that failed, a run throttled away, images it could not
# delete (the EMF metric ImagesFailed, lib/metrics/points.ts, namespace regprune) and scheduled runs
# parked in the dead-letter queue. They notify var.alarm_action_arns (e.g. an SNS topic) when set.

locals {
  alarm_common = {
    alarm_actions       = var.alarm_action_arns
    ok_actions          = var.alarm_action_arns
    comparison_operator = "GreaterThanOrEqualToThreshold"
    threshold           = 1
    evaluation_periods  = 1
    treat_missing_data  = "notBreaching"
  }
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  alarm_name          = "${var.name}-function-errors"
  alarm_description   = "A regprune run failed (exit code 1 or a crash): see the log group ${aws_cloudwatch_log_group.function.name}."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.regprune.function_name }
  statistic           = "Sum"
  period              = 300
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions
  comparison_operator = local.alarm_common.comparison_operator
  threshold           = local.alarm_common.threshold
  evaluation_periods  = local.alarm_common.evaluation_periods
  treat_missing_data  = local.alarm_common.treat_missing_data
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  alarm_name          = "${var.name}-function-throttles"
  alarm_description   = "A regprune invocation was throttled (one run at a time): a run was already going."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.regprune.function_name }
  statistic           = "Sum"
  period              = 300
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions
  comparison_operator = local.alarm_common.comparison_operator
  threshold           = local.alarm_common.threshold
  evaluation_periods  = local.alarm_common.evaluation_periods
  treat_missing_data  = local.alarm_common.treat_missing_data
  tags                = var.tags
}

# ImagesFailed carries the dimensions registry and repository: a Metrics Insights query sums it over
# every repository, so a new repository needs no new alarm.
resource "aws_cloudwatch_metric_alarm" "failed_deletions" {
  alarm_name          = "${var.name}-failed-deletions"
  alarm_description   = "regprune could not delete images it meant to delete: see the run report in the logs."
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions
  comparison_operator = local.alarm_common.comparison_operator
  threshold           = local.alarm_common.threshold
  evaluation_periods  = local.alarm_common.evaluation_periods
  treat_missing_data  = local.alarm_common.treat_missing_data
  tags                = var.tags

  metric_query {
    id          = "failed"
    expression  = "SELECT SUM(ImagesFailed) FROM SCHEMA(regprune, registry, repository)"
    period      = 300
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "undelivered_runs" {
  alarm_name          = "${var.name}-undelivered-scheduled-runs"
  alarm_description   = "A scheduled regprune run failed or was never delivered: it waits in ${aws_sqs_queue.schedule_dlq.name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.schedule_dlq.name }
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
