# The release pipeline of the shop API: source from GitHub through a CodeStar connection, build
# and unit tests, a staging stack with integration tests, a manual approval, then production
# on ECS.

variable "repo" {
  description = "Repository name, also the prefix of the pipeline and stack names"
  type        = string
  default     = "shop-api"
}

variable "branch" {
  type    = string
  default = "main"
}

variable "service_name" {
  description = "The ECS service in production (no default: set per workspace)"
  type        = string
}

variable "region" {
  type = string
}

locals {
  artifact_bucket = "${var.repo}-artifacts"
}

resource "aws_codestarconnections_connection" "github" {
  name          = "github-acme"
  provider_type = "GitHub"
}

resource "aws_codepipeline" "release" {
  name           = "${var.repo}-release"
  role_arn       = aws_iam_role.pipeline.arn
  pipeline_type  = "V2"
  execution_mode = "QUEUED"

  artifact_store {
    location = local.artifact_bucket
    type     = "S3"
  }

  tags = {
    Team               = "payments"
    "stagelock:ignore" = "SL301 SL401"
  }

  stage {
    name = "Source"

    action {
      name             = "Checkout"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      output_artifacts = ["source"]

      configuration = {
        ConnectionArn    = aws_codestarconnections_connection.github.arn
        FullRepositoryId = "acme/${var.repo}"
        BranchName       = var.branch
        DetectChanges    = false
      }
    }
  }

  stage {
    name = "Build"

    action {
      name             = "Compile"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      run_order        = 1
      input_artifacts  = ["source"]
      output_artifacts = ["image"]

      configuration = {
        ProjectName = "shop-api-build"
      }
    }

    action {
      name            = "UnitTests"
      category        = "Test"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      run_order       = "2"
      input_artifacts = ["source"]

      configuration = {
        ProjectName = "shop-api-unit-tests"
      }
    }
  }

  stage {
    name = "Staging"

    action {
      name            = "DeployStack"
      category        = "Deploy"
      owner           = "AWS"
      provider        = "CloudFormation"
      version         = "1"
      input_artifacts = ["image"]

      configuration = {
        ActionMode   = "CREATE_UPDATE"
        StackName    = "${var.repo}-staging"
        TemplatePath = "image::stack.yaml"
        RoleArn      = aws_iam_role.cloudformation.arn
        Capabilities = "CAPABILITY_IAM,CAPABILITY_AUTO_EXPAND"
      }
    }

    action {
      name            = "IntegrationTests"
      category        = "Test"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      run_order       = 2
      input_artifacts = ["source"]

      configuration = {
        ProjectName = "shop-api-integration"
      }
    }
  }

  stage {
    name = "Approve"

    action {
      name     = "ReleaseManager"
      category = "Approval"
      owner    = "AWS"
      provider = "Manual"
      version  = "1"

      configuration = {
        NotificationArn = aws_sns_topic.approvals.arn
        CustomData      = "Staging passed: release ${var.repo} to production?"
      }
    }
  }

  stage {
    name = "Production"

    action {
      name            = "Deploy-${var.region}"
      category        = "Deploy"
      owner           = "AWS"
      provider        = "ECS"
      version         = "1"
      input_artifacts = ["image"]

      configuration = {
        ClusterName = aws_ecs_cluster.production.name
        ServiceName = var.service_name
        FileName    = "imagedefinitions.json"
      }
    }
  }
}
