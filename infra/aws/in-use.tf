# In-use protection (docs/design.md, "In-use protection"): the read-only calls the config's inUse
# sources of kind "ecs" and "lambda" make, granted only when enabled. Where the API supports
# resource-level permissions the grant is scoped to this account and region; ListClusters,
# DescribeTaskDefinition and ListFunctions support none, so they take "*".

variable "in_use_ecs" {
  description = "Grant the read access an inUse source of kind ecs needs (clusters, services, tasks, task definitions)."
  type        = bool
  default     = false
}

variable "in_use_lambda" {
  description = "Grant the read access an inUse source of kind lambda needs (list functions, read their image URIs)."
  type        = bool
  default     = false
}

locals {
  in_use_enabled    = var.in_use_ecs || var.in_use_lambda
  ecs_arn_prefix    = "arn:${data.aws_partition.current.partition}:ecs:${data.aws_region.current.region}:${local.account_id}"
  lambda_arn_prefix = "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.region}:${local.account_id}"
}

data "aws_iam_policy_document" "in_use" {
  dynamic "statement" {
    for_each = var.in_use_ecs ? [1] : []
    content {
      sid       = "InUseEcsUnscoped"
      actions   = ["ecs:ListClusters", "ecs:DescribeTaskDefinition"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.in_use_ecs ? [1] : []
    content {
      sid     = "InUseEcsScoped"
      actions = ["ecs:ListServices", "ecs:ListTasks", "ecs:DescribeServices", "ecs:DescribeTasks"]
      resources = [
        "${local.ecs_arn_prefix}:cluster/*",
        "${local.ecs_arn_prefix}:service/*",
        "${local.ecs_arn_prefix}:task/*",
      ]
    }
  }

  dynamic "statement" {
    for_each = var.in_use_lambda ? [1] : []
    content {
      sid       = "InUseLambdaList"
      actions   = ["lambda:ListFunctions"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.in_use_lambda ? [1] : []
    content {
      sid       = "InUseLambdaRead"
      actions   = ["lambda:GetFunction"]
      resources = ["${local.lambda_arn_prefix}:function:*"]
    }
  }
}

resource "aws_iam_role_policy" "in_use" {
  count  = local.in_use_enabled ? 1 : 0
  name   = "${var.name}-in-use-read"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.in_use.json
}
