terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.x: data.aws_region exposes `region` (5.x called it `name`); 6.29.0 added
      # aws_lambda_permission.invoked_via_function_url.
      version = ">= 6.29.0, < 7.0.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.4"
    }
  }
}
