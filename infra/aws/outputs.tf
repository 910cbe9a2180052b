output "function_name" {
  description = "The Lambda function (aws lambda invoke --function-name ...)."
  value       = aws_lambda_function.regprune.function_name
}

output "function_arn" {
  value = aws_lambda_function.regprune.arn
}

output "function_url" {
  description = "On-demand runs: POST with SigV4 (curl --aws-sigv4 \"aws:amz:REGION:lambda\" or awscurl)."
  value       = aws_lambda_function_url.regprune.function_url
}

output "log_group_name" {
  description = "Logs and EMF metric lines (namespace regprune)."
  value       = aws_cloudwatch_log_group.function.name
}

output "schedule_arn" {
  value = aws_scheduler_schedule.regprune.arn
}

output "function_role_arn" {
  description = "The role regprune runs as (add it to ECR pull-time update exclusions, and to repository policies for another account)."
  value       = aws_iam_role.function.arn
}

output "invoker_policy_json" {
  description = "An identity policy that lets a same-account principal call the function URL."
  value = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"]
      Resource = aws_lambda_function.regprune.arn
    }]
  })
}

output "state_bucket" {
  description = "The state bucket (run lock lease, run history under history/)."
  value       = aws_s3_bucket.state.id
}
