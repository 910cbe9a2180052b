# The function's role: read and prune the configured ECR repositories, keep its state (lock, history) in
# its own bucket, write its own logs. Nothing else.

data "aws_iam_policy_document" "function_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = "${var.name}-function"
  assume_role_policy = data.aws_iam_policy_document.function_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "function" {
  # DescribeRepositories without names is authorized against repository/* of the registry: it lists
  # names only (no images), and regprune's own rules pick which repositories it touches.
  statement {
    sid       = "ListRepositories"
    actions   = ["ecr:DescribeRepositories"]
    resources = ["${local.ecr_arn_prefix}/*"]
  }

  statement {
    sid = "PruneConfiguredRepositories"
    actions = [
      "ecr:DescribeImages",
      "ecr:BatchGetImage",
      "ecr:BatchDeleteImage",
    ]
    resources = local.ecr_repository_arns
  }

  # Conditional PutObject/DeleteObject (If-None-Match, If-Match) need no extra action.
  statement {
    sid       = "StateRecords"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.state.arn}/*"]
  }

  # ListBucket also turns a GetObject of a missing key into 404 (not 403), which the store relies on.
  statement {
    sid       = "StateList"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }

  # Lambda's on_failure destination sends as the function's role.
  statement {
    sid       = "FailedScheduledRuns"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.schedule_dlq.arn]
  }

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "${var.name}-ecr-prune"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

# The schedule's role: invoke this function, nothing else.

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "InvokeRegprune"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.regprune.arn, "${aws_lambda_function.regprune.arn}:*"]
  }

  # dead_letter_config: the schedule sends what it could not deliver as this role.
  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.schedule_dlq.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "${var.name}-invoke"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
