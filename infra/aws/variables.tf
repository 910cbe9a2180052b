variable "name" {
  description = "Name of the function, its roles, log group and schedule."
  type        = string
  default     = "regprune"

  validation {
    # 54: the longest derived name, the role "<name>-scheduler", must fit IAM's 64 characters
    # (test/unit/aws-infra-schema.test.ts substitutes the longest name into every derived name).
    condition     = can(regex("^[A-Za-z0-9_-]{1,54}$", var.name))
    error_message = "name: use 1-54 letters, digits, - or _ (it prefixes IAM role names, which IAM caps at 64)."
  }
}

variable "config" {
  description = "The regprune config (YAML or JSON), e.g. file(\"regprune.yaml\"). Passed to the function as REGPRUNE_CONFIG and validated before any registry call. Empty: the function reads the regprune.yaml bundled with it (npm run bundle:aws -- --config FILE)."
  type        = string
  default     = ""
}

variable "repositories" {
  description = "ECR repository names or IAM ARN patterns the function may read and prune, e.g. [\"team-a/*\", \"base/node\"]. They become arn:aws:ecr:REGION:ACCOUNT:repository/PATTERN. Keep them in step with the config's rules."
  type        = list(string)

  validation {
    condition     = length(var.repositories) > 0 && alltrue([for p in var.repositories : can(regex("^[a-z0-9*?][a-z0-9._/*?-]*$", p))])
    error_message = "repositories: give at least one repository name or pattern (lowercase, digits, . _ - / and * ? wildcards)."
  }
}

variable "registry_account_id" {
  description = "Account that owns the ECR registry (default: the account Terraform deploys into). Another account also needs a repository policy that lets the function's role in."
  type        = string
  default     = null
}

variable "registry_region" {
  description = "Region of the ECR registry (default: the provider's region)."
  type        = string
  default     = null
}

variable "bundle_dir" {
  description = "Directory holding the bundled function (npm run bundle:aws writes dist/aws)."
  type        = string
  default     = null
}

variable "schedule_expression" {
  description = "When the scheduled run fires: rate(...) or cron(...) as EventBridge Scheduler reads them."
  type        = string
  default     = "cron(0 3 * * ? *)"
}

variable "schedule_timezone" {
  description = "Time zone of schedule_expression."
  type        = string
  default     = "UTC"
}

variable "schedule_input" {
  description = "What the scheduled run may narrow: {registry = \"name\", repository = \"glob\", dryRun = true}. Empty: the whole configured run."
  # any, not map(any): a map would turn dryRun = true into the string "true", which the run refuses.
  type    = any
  default = {}
}

variable "timeout_seconds" {
  description = "Function timeout. A run stops starting deletions 30 s before it and reports the rest as pending; the next run converges."
  type        = number
  default     = 900

  validation {
    condition     = var.timeout_seconds >= 60 && var.timeout_seconds <= 900
    error_message = "timeout_seconds: between 60 and 900 (Lambda's maximum)."
  }
}

variable "memory_mb" {
  description = "Function memory (CPU scales with it)."
  type        = number
  default     = 512
}

variable "log_retention_days" {
  description = "How long CloudWatch keeps the function's logs (and EMF metric lines)."
  type        = number
  default     = 30
}

variable "url_invoker_arns" {
  description = "IAM principals of OTHER accounts allowed to call the function URL (same-account callers only need lambda:InvokeFunctionUrl in their own policy; see the invoker_policy_json output)."
  type        = list(string)
  default     = []

  # "*" (or any wildcard) would let every AWS account call the function.
  validation {
    condition     = alltrue([for arn in var.url_invoker_arns : !strcontains(arn, "*") && length(trimspace(arn)) > 0])
    error_message = "url_invoker_arns: name each principal (an account ID or an IAM ARN); \"*\" and wildcards are refused."
  }
}

variable "alarm_action_arns" {
  description = "Where the alarms (function errors, throttles, failed deletions, undelivered scheduled runs) notify, e.g. an SNS topic ARN. Empty: the alarms exist but notify no one."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "history_retention_days" {
  description = "Days a run's history record stays in the state bucket before S3 expires it."
  type        = number
  default     = 400
  validation {
    condition     = var.history_retention_days >= 1
    error_message = "history_retention_days: give at least 1 day."
  }
}
