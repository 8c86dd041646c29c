# One deploy stage per environment, generated with a dynamic block; and a nightly pipeline that
# only some workspaces create.

variable "environments" {
  type    = list(string)
  default = ["dev", "staging"]
}

variable "nightly" {
  type    = bool
  default = false
}

variable "execution_mode" {
  type = string
}

locals {
  project = "inventory"
  prefix  = "${local.project}-svc"
}

resource "aws_codepipeline" "environments" {
  name           = "${local.prefix}-environments"
  role_arn       = aws_iam_role.pipeline.arn
  pipeline_type  = "V2"
  execution_mode = var.execution_mode

  artifact_store {
    location = aws_s3_bucket.artifacts.bucket
    type     = "S3"
  }

  tags = merge(local.common_tags, { Service = local.project })

  stage {
    name = "Source"

    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "S3"
      version          = "1"
      output_artifacts = ["bundle"]

      configuration = {
        S3Bucket    = aws_s3_bucket.artifacts.bucket
        S3ObjectKey = "${local.project}/bundle.zip"
      }
    }
  }

  dynamic "stage" {
    for_each = var.environments

    content {
      name = "Deploy-${stage.value}"

      action {
        name            = "Deploy"
        category        = "Deploy"
        owner           = "AWS"
        provider        = "CodeDeploy"
        version         = "1"
        input_artifacts = ["bundle"]

        configuration = {
          ApplicationName     = local.project
          DeploymentGroupName = stage.value
        }
      }
    }
  }

  stage {
    name = "Verify"

    action {
      name     = "Smoke"
      category = "Test"
      owner    = "AWS"
      provider = "CodeBuild"
      version  = "1"

      configuration = {
        ProjectName = "${local.prefix}-smoke"
      }
    }

    dynamic "action" {
      for_each = toset(var.environments)

      content {
        name      = "Probe-${action.key}"
        category  = "Test"
        owner     = "AWS"
        provider  = "CodeBuild"
        version   = "1"
        run_order = 2

        configuration = {
          ProjectName = "probe-${action.key}"
        }
      }
    }
  }

  stage {
    name = "Report"

    dynamic "action" {
      for_each = var.environments

      content {
        name     = "Report-${action.value}"
        category = "Invoke"
        owner    = "AWS"
        provider = "Lambda"
        version  = "1"
      }
    }
  }
}

resource "aws_codepipeline" "nightly" {
  count    = var.nightly ? 1 : 0
  name     = "${local.project}-nightly-${count.index}"
  role_arn = aws_iam_role.pipeline.arn

  artifact_store {
    location = aws_s3_bucket.artifacts.bucket
    type     = "S3"
  }

  stage {
    name = "Source"

    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "S3"
      version          = "1"
      output_artifacts = ["bundle"]

      configuration = {
        S3Bucket    = aws_s3_bucket.artifacts.bucket
        S3ObjectKey = "${local.project}/bundle.zip"
      }
    }
  }

  stage {
    name = "LoadTest"

    action {
      name     = "LoadTest"
      category = "Test"
      owner    = "AWS"
      provider = "CodeBuild"
      version  = "1"

      configuration = {
        ProjectName = "${local.project}-load"
      }
    }
  }
}
