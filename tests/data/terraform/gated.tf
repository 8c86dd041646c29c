# The orders service: built and unit-tested by CodeBuild, deployed to ECS in staging behind
# a deployment window and an alarm check, then to production.  Some of its stage settings
# change how executions run in ways stagelock does not model, and two arguments are misspelt.

variable "cluster" {
  type    = string
  default = "orders"
}

variable "alarm_rules" {
  type    = list(string)
  default = ["orders-5xx"]
}

resource "aws_codepipeline" "orders" {
  name           = "orders-release"
  role_arn       = aws_iam_role.pipeline.arn
  pipeline_type  = "V2"
  execution_mode = "QUEUED"

  artifact_store {
    location = aws_s3_bucket.artifacts.bucket
    type     = "S3"
  }

  trigger {
    provider_type = "CodeStarSourceConnection"
    git_configuration {
      source_action_name = "Checkout"
      push {
        branches {
          includes = ["main"]
        }
      }
    }
  }

  variable {
    name          = "ReleaseNote"
    default_value = "none"
  }

  tags = {
    Team = "orders"
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
      namespace        = "SourceVariables"

      configuration = {
        ConnectionArn    = aws_codestarconnections_connection.github.arn
        FullRepositoryId = "acme/orders"
        BranchName       = "main"
      }
    }
  }

  stage {
    name = "Test"

    action {
      name               = "UnitTests"
      category           = "Test"
      owner              = "AWS"
      provider           = "CodeBuild"
      version            = "1"
      input_artifacts    = ["source"]
      output_artifacts   = ["image"]
      timeout_in_minutes = 30

      configuration = {
        ProjectName = "orders-unit-tests"
      }
    }

    on_failure {
      result = "RETRY"
      retry_configuration {
        retry_mode = "FAILED_ACTIONS"
      }
    }
  }

  stage {
    name = "Staging"

    before_entry {
      condition {
        result = "FAIL"
        rule {
          name = "DeploymentWindow"
          rule_type_id {
            category = "Rule"
            owner    = "AWS"
            provider = "DeploymentWindow"
            version  = "1"
          }
          configuration = {
            Cron     = "0 9-17 ? * MON-FRI *"
            TimeZone = "Europe/Berlin"
          }
        }
      }
    }

    action {
      name            = "DeployService"
      category        = "Deploy"
      owner           = "AWS"
      provider        = "ECS"
      version         = "1"
      input_artifacts = ["image"]
      run_ordr        = 1

      configuration = {
        ClusterName = "${var.cluster}-staging"
        ServiceName = "orders"
        FileName    = "imagedefinitions.json"
      }
    }

    on_sucess {
      condition {
        result = "ROLLBACK"
      }
    }

    on_failure {
      result = "ROLLBACK"
      condition {
        result = "ROLLBACK"
        dynamic "rule" {
          for_each = var.alarm_rules
          content {
            name = rule.value
            rule_type_id {
              category = "Rule"
              provider = "CloudWatchAlarm"
            }
            configuration = {
              AlarmName = rule.value
            }
          }
        }
      }
    }
  }

  stage {
    name = "Production"

    dynamic "on_success" {
      for_each = var.alarm_rules
      content {
        condition {
          result = "FAIL"
        }
      }
    }

    action {
      name            = "DeployService"
      category        = "Deploy"
      owner           = "AWS"
      provider        = "ECS"
      version         = "1"
      input_artifacts = ["image"]

      configuration = {
        ClusterName = "${var.cluster}-prod"
        ServiceName = "orders"
        FileName    = "imagedefinitions.json"
      }
    }
  }
}
